#pragma once
// The order in which a loader visits dataset indices in one epoch (torch's Sampler with
// mmcv's set_epoch folded into the call).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cppdet::data {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Number of indices per epoch (may exceed the dataset size: GroupSampler pads groups).
  virtual size_t size() const = 0;
  // The indices of epoch `epoch` (0-based); the same epoch always gives the same list.
  virtual std::vector<size_t> indices(int64_t epoch) const = 0;
};

// 0, 1, ..., n-1 every epoch (val/test loaders, train-step).
class SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(size_t n) : n_(n) {}
  size_t size() const override { return n_; }
  std::vector<size_t> indices(int64_t) const override {
    std::vector<size_t> out(n_);
    for (size_t i = 0; i < n_; ++i) out[i] = i;
    return out;
  }

 private:
  size_t n_;
};

}  // namespace cppdet::data
