#pragma once
// mmdet's MultiScaleFlipAug: runs its inner transforms once per (scale, flip) combination —
// scales outer, then no-flip followed by one flip per direction — and returns every result.
// With one scale and flip=False it yields a single sample (the simple_test path).
#include <memory>
#include <string>
#include <vector>

#include "cppdet/data/transforms/compose.h"

namespace cppdet::data {

class MultiScaleFlipAug : public Transform {
 public:
  struct Options {
    std::vector<std::array<int64_t, 2>> img_scale;  // (w, h) tuples; or
    std::vector<double> scale_factor;               // resize factors (exactly one list is set)
    bool flip = false;
    std::vector<std::string> flip_direction{"horizontal"};
  };
  MultiScaleFlipAug(Options options, std::unique_ptr<Compose> transforms);
  std::vector<Sample> operator()(Sample sample) override;

 private:
  Options options_;
  std::unique_ptr<Compose> transforms_;
};

}  // namespace cppdet::data
