#pragma once
// The training log: lines "2024-05-01 12:00:00,123 - cppdet - INFO - <message>" (mmcv's
// format with logger name cppdet) to stdout and, once a file is attached, to
// <work_dir>/<timestamp>.log. Each line is flushed as it is written. The ranks other than 0
// of a distributed run log errors only (mmdet's get_root_logger).
#include <fstream>
#include <mutex>
#include <string>

namespace cppdet::engine {

class RunLogger {
 public:
  explicit RunLogger(bool to_stdout = true, bool errors_only = false)
      : to_stdout_(to_stdout), errors_only_(errors_only) {}

  // Appends to `path` from now on (created if missing).
  void attach_file(const std::string& path);
  const std::string& file_path() const { return path_; }

  void info(const std::string& message) { write("INFO", message); }
  void warning(const std::string& message) { write("WARNING", message); }
  void error(const std::string& message) { write("ERROR", message); }

 private:
  void write(const char* level, const std::string& message);

  bool to_stdout_;
  bool errors_only_;
  std::string path_;
  std::ofstream file_;
  std::mutex mutex_;
};

// Local time as "%Y%m%d_%H%M%S" (the work-dir file stamp).
std::string timestamp_now();
// Python's time.asctime(): "Tue Nov 26 10:00:00 2024".
std::string asctime_now();

}  // namespace cppdet::engine
