#pragma once
// An mmcv-style progress bar on stderr:
//   [>>>>>>>>>>          ] 50/100, 12.5 task/s, elapsed: 4s, ETA:     4s
// On a terminal it redraws one line; otherwise (logs, pipes) it prints a plain line at every
// 10% step and at the end. With total 0 (unknown) it shows the count and rate only.
#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

namespace cppdet {

class ProgressBar {
 public:
  // `interactive`: redraw in place; default: whether `out` is std::cerr on a terminal.
  explicit ProgressBar(size_t total, std::ostream* out = nullptr, std::optional<bool> interactive = std::nullopt);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Marks `n` more tasks done and redraws when due.
  void update(size_t n = 1);
  // Ends the bar (a newline on a terminal); called by the destructor if not before.
  void finish();

  size_t completed() const { return completed_; }
  // The status text for `completed` tasks after `elapsed_s` seconds, bar `width` chars wide
  // (no bar when 0 or the total is unknown).
  static std::string format(size_t completed, size_t total, double elapsed_s, int width);

 private:
  std::ostream& out_;
  size_t total_;
  size_t completed_ = 0;
  bool interactive_;
  bool finished_ = false;
  size_t last_printed_step_ = 0;  // non-interactive: the last 10% step printed
  std::chrono::steady_clock::time_point start_;
};

}  // namespace cppdet
