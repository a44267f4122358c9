#pragma once
// mmdet's DistributedSampler (torch's, seeded by seed + epoch): the dataset's indices —
// shuffled by torch.randperm with a CPU generator seeded with seed + epoch, or in order —
// repeated to total = ceil(n / num_replicas) * num_replicas, and rank r takes every
// num_replicas-th from position r: r, r + R, r + 2R, ... (the val / test loaders, and the
// training loader with shuffle=False, of a distributed run).
#include <cstdint>
#include <vector>

#include "cppdet/data/samplers/sampler.h"

namespace cppdet::data {

class DistributedSampler : public Sampler {
 public:
  // Throws UserError unless 0 <= rank < num_replicas and n > 0.
  DistributedSampler(size_t n, int64_t num_replicas, int64_t rank, bool shuffle, int64_t seed = 0);

  // ceil(n / num_replicas).
  size_t size() const override { return num_samples_; }
  std::vector<size_t> indices(int64_t epoch) const override;

 private:
  size_t n_;
  int64_t num_replicas_;
  int64_t rank_;
  bool shuffle_;
  int64_t seed_;
  size_t num_samples_;
};

}  // namespace cppdet::data
