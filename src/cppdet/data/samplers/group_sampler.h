#pragma once
// Aspect-ratio grouped shuffling (mmdet's DistributedGroupSampler with one replica, which is
// the seeded variant of GroupSampler): every batch of `samples_per_gpu` indices comes from
// one group (dataset.flag: w/h > 1 or not).
//
// For epoch e, a torch CPU generator seeded with seed + e:
//  1. for each group g = 0, 1 in order: its indices (ascending) permuted by
//     torch.randperm(size_g), then padded to a multiple of samples_per_gpu by repeating the
//     permuted list from its start;
//  2. the concatenation is cut into chunks of samples_per_gpu, and the chunks are put in the
//     order torch.randperm(num_chunks) gives (same generator).
// Python's DistributedGroupSampler(dataset, samples_per_gpu, num_replicas=1, rank=0, seed)
// with set_epoch(e) yields the same list.
#include <cstdint>
#include <vector>

#include "cppdet/data/samplers/sampler.h"

namespace cppdet::data {

class GroupSampler : public Sampler {
 public:
  // `flags`: one group flag per dataset index.
  GroupSampler(std::vector<uint8_t> flags, int64_t samples_per_gpu, int64_t seed);

  size_t size() const override { return num_samples_; }
  std::vector<size_t> indices(int64_t epoch) const override;

 private:
  std::vector<uint8_t> flags_;
  std::vector<size_t> group_sizes_;
  int64_t samples_per_gpu_;
  int64_t seed_;
  size_t num_samples_ = 0;
};

}  // namespace cppdet::data
