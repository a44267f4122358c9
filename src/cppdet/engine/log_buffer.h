#pragma once
// mmcv's LogBuffer: the history of logged scalars since the last clear() (weighted by their
// counts, e.g. the batch size for losses), and `output`, the averaged values the logger
// prints. Keys keep the order in which they first appeared.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::engine {

class LogBuffer {
 public:
  void update(const std::string& key, double value, int64_t count = 1);
  // output[key] = sum(v * n) / sum(n) over the last `n` entries of each key (all if n <= 0);
  // sets ready().
  void average(int64_t n = 0);
  void clear();         // history and output
  void clear_output();  // output only; ready() becomes false

  bool ready() const { return ready_; }
  void set_ready() { ready_ = true; }
  // Averaged values and extra entries (eval metrics: numbers or strings), in order.
  config::Dict& output() { return output_; }
  const config::Dict& output() const { return output_; }

 private:
  struct Series {
    std::string key;
    std::vector<double> values;
    std::vector<int64_t> counts;
  };
  std::vector<Series> history_;
  config::Dict output_;
  bool ready_ = false;
};

}  // namespace cppdet::engine
