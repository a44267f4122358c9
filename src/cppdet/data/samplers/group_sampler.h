#pragma once
// Aspect-ratio grouped shuffling: mmdet's DistributedGroupSampler (with one replica it is the
// seeded variant of GroupSampler, which single-process training uses): every batch of
// `samples_per_gpu` indices comes from one group (dataset.flag: w/h > 1 or not).
//
// For epoch e, a torch CPU generator seeded with seed + e:
//  1. for each group g = 0, 1 in order: its indices (ascending) permuted by
//     torch.randperm(size_g), then padded to a multiple of samples_per_gpu * num_replicas by
//     repeating the permuted list from its start;
//  2. the concatenation is cut into chunks of samples_per_gpu, and the chunks are put in the
//     order torch.randperm(num_chunks) gives (same generator);
//  3. rank r takes the r-th of num_replicas equal consecutive parts.
// Python's DistributedGroupSampler(dataset, samples_per_gpu, num_replicas, rank, seed) with
// set_epoch(e) yields the same list on every rank.
#include <cstdint>
#include <vector>

#include "cppdet/data/samplers/sampler.h"

namespace cppdet::data {

class GroupSampler : public Sampler {
 public:
  // `flags`: one group flag per dataset index. Throws UserError unless
  // 0 <= rank < num_replicas and samples_per_gpu > 0.
  GroupSampler(std::vector<uint8_t> flags, int64_t samples_per_gpu, int64_t seed, int64_t num_replicas = 1,
               int64_t rank = 0);

  // This rank's indices per epoch: sum over groups of ceil(size / (spg * replicas)) * spg.
  size_t size() const override { return num_samples_; }
  std::vector<size_t> indices(int64_t epoch) const override;

 private:
  std::vector<uint8_t> flags_;
  std::vector<size_t> group_sizes_;
  int64_t samples_per_gpu_;
  int64_t seed_;
  int64_t num_replicas_;
  int64_t rank_;
  size_t num_samples_ = 0;
};

}  // namespace cppdet::data
