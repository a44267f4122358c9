#include "cppdet/engine/log_buffer.h"

namespace cppdet::engine {

void LogBuffer::update(const std::string& key, double value, int64_t count) {
  for (Series& s : history_) {
    if (s.key != key) continue;
    s.values.push_back(value);
    s.counts.push_back(count);
    return;
  }
  history_.push_back({key, {value}, {count}});
}

void LogBuffer::average(int64_t n) {
  for (const Series& s : history_) {
    const size_t total = s.values.size();
    const size_t take = (n <= 0 || static_cast<size_t>(n) > total) ? total : static_cast<size_t>(n);
    double weighted = 0.0;
    double counts = 0.0;
    for (size_t i = total - take; i < total; ++i) {
      weighted += s.values[i] * static_cast<double>(s.counts[i]);
      counts += static_cast<double>(s.counts[i]);
    }
    output_.set(s.key, counts > 0 ? weighted / counts : 0.0);
  }
  ready_ = true;
}

void LogBuffer::clear() {
  history_.clear();
  clear_output();
}

void LogBuffer::clear_output() {
  output_ = config::Dict{};
  ready_ = false;
}

}  // namespace cppdet::engine
