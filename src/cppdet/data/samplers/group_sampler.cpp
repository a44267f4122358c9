#include "cppdet/data/samplers/group_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "cppdet/core/error.h"

namespace cppdet::data {

GroupSampler::GroupSampler(std::vector<uint8_t> flags, int64_t samples_per_gpu, int64_t seed, int64_t num_replicas,
                           int64_t rank)
    : flags_(std::move(flags)), samples_per_gpu_(samples_per_gpu), seed_(seed), num_replicas_(num_replicas), rank_(rank) {
  if (samples_per_gpu_ <= 0) throw UserError("GroupSampler: samples_per_gpu must be positive");
  if (num_replicas_ <= 0 || rank_ < 0 || rank_ >= num_replicas_)
    throw UserError("GroupSampler: rank " + std::to_string(rank_) + " of " + std::to_string(num_replicas_) + " replicas");
  for (uint8_t f : flags_) {
    if (f >= group_sizes_.size()) group_sizes_.resize(f + 1, 0);
    ++group_sizes_[f];
  }
  const size_t spg = static_cast<size_t>(samples_per_gpu_), replicas = static_cast<size_t>(num_replicas_);
  for (size_t size : group_sizes_) num_samples_ += (size + spg * replicas - 1) / (spg * replicas) * spg;
}

std::vector<size_t> GroupSampler::indices(int64_t epoch) const {
  torch::Generator gen = at::detail::createCPUGenerator(static_cast<uint64_t>(seed_ + epoch));
  const auto opts = torch::TensorOptions().dtype(torch::kLong);
  const size_t spg = static_cast<size_t>(samples_per_gpu_), replicas = static_cast<size_t>(num_replicas_);
  std::vector<size_t> all;
  all.reserve(num_samples_ * replicas);
  for (size_t g = 0; g < group_sizes_.size(); ++g) {
    const size_t size = group_sizes_[g];
    if (size == 0) continue;
    std::vector<size_t> members;
    for (size_t i = 0; i < flags_.size(); ++i)
      if (flags_[i] == g) members.push_back(i);
    const torch::Tensor perm = torch::randperm(static_cast<int64_t>(size), gen, opts);
    const int64_t* p = perm.data_ptr<int64_t>();
    std::vector<size_t> shuffled(size);
    for (size_t k = 0; k < size; ++k) shuffled[k] = members[static_cast<size_t>(p[k])];
    const size_t padded = (size + spg * replicas - 1) / (spg * replicas) * spg * replicas;
    for (size_t k = 0; k < padded; ++k) all.push_back(shuffled[k % size]);
  }
  const size_t chunks = all.size() / spg;
  const torch::Tensor order = torch::randperm(static_cast<int64_t>(chunks), gen, opts);
  const int64_t* o = order.data_ptr<int64_t>();
  std::vector<size_t> out;
  out.reserve(num_samples_);
  const size_t first_chunk = static_cast<size_t>(rank_) * (num_samples_ / spg);
  for (size_t c = first_chunk; c < first_chunk + num_samples_ / spg; ++c)
    for (size_t j = 0; j < spg; ++j) out.push_back(all[static_cast<size_t>(o[c]) * spg + j]);
  return out;
}

}  // namespace cppdet::data
