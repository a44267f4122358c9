#include "cppdet/engine/run_logger.h"

#include <chrono>
#include <ctime>
#include <iostream>

#include "cppdet/core/error.h"

namespace cppdet::engine {
namespace {

std::string format_local(const char* fmt, std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

void RunLogger::attach_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  file_.close();
  file_.open(path, std::ios::app);
  if (!file_) throw FileFormatError(path + ": cannot open the log file for writing");
  path_ = path;
}

void RunLogger::write(const char* level, const std::string& message) {
  if (errors_only_ && std::string(level) != "ERROR") return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char millis[8];
  std::snprintf(millis, sizeof millis, ",%03d", static_cast<int>(ms));
  const std::string line = format_local("%Y-%m-%d %H:%M:%S", t) + millis + " - cppdet - " + level + " - " + message + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  if (to_stdout_) {
    std::cout << line;
    std::cout.flush();
  }
  if (file_.is_open()) {
    file_ << line;
    file_.flush();
  }
}

std::string timestamp_now() { return format_local("%Y%m%d_%H%M%S", std::time(nullptr)); }

std::string asctime_now() { return format_local("%a %b %e %H:%M:%S %Y", std::time(nullptr)); }

}  // namespace cppdet::engine
