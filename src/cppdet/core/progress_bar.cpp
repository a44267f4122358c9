#include "cppdet/core/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace cppdet {
namespace {

int terminal_width() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

ProgressBar::ProgressBar(size_t total, std::ostream* out, std::optional<bool> interactive)
    : out_(out ? *out : std::cerr),
      total_(total),
      interactive_(interactive.value_or(&out_ == &std::cerr && ::isatty(STDERR_FILENO))),
      start_(std::chrono::steady_clock::now()) {
  if (interactive_) out_ << "\r" << format(0, total_, 0.0, 0) << std::flush;
}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::format(size_t completed, size_t total, double elapsed_s, int width) {
  char buf[256];
  const double rate = elapsed_s > 0 ? static_cast<double>(completed) / elapsed_s : 0.0;
  const long elapsed = static_cast<long>(elapsed_s + 0.5);
  if (total == 0) {
    std::snprintf(buf, sizeof(buf), "completed: %zu, elapsed: %lds, %.1f tasks/s", completed, elapsed, rate);
    return buf;
  }
  const double fraction = std::min(1.0, static_cast<double>(completed) / static_cast<double>(total));
  const long eta = rate > 0 ? static_cast<long>(elapsed_s * (1.0 - fraction) / fraction + 0.5) : 0;
  std::snprintf(buf, sizeof(buf), "%zu/%zu, %.1f task/s, elapsed: %lds, ETA: %5lds", completed, total, rate, elapsed, eta);
  if (width <= 0) return buf;
  const int filled = static_cast<int>(width * fraction);
  return "[" + std::string(filled, '>') + std::string(width - filled, ' ') + "] " + buf;
}

void ProgressBar::update(size_t n) {
  if (finished_) return;
  completed_ += n;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (interactive_) {
    const int columns = terminal_width();
    const int text = static_cast<int>(format(completed_, total_, elapsed, 0).size());
    const int width = std::max(2, std::min(columns - text - 3, static_cast<int>(columns * 0.6)));
    out_ << "\r" << format(completed_, total_, elapsed, total_ ? width : 0) << std::flush;
    return;
  }
  // Plain lines at every 10% (every 100 tasks when the total is unknown) and at the end.
  const size_t step = total_ ? completed_ * 10 / total_ : completed_ / 100;
  if (step > last_printed_step_ || (total_ && completed_ >= total_)) {
    last_printed_step_ = step;
    out_ << format(completed_, total_, elapsed, 0) << "\n" << std::flush;
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (interactive_) out_ << "\n" << std::flush;
}

}  // namespace cppdet
