#include "cppdet/data/samplers/distributed_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <string>

#include "cppdet/core/error.h"

namespace cppdet::data {

DistributedSampler::DistributedSampler(size_t n, int64_t num_replicas, int64_t rank, bool shuffle, int64_t seed)
    : n_(n), num_replicas_(num_replicas), rank_(rank), shuffle_(shuffle), seed_(seed) {
  if (num_replicas_ <= 0 || rank_ < 0 || rank_ >= num_replicas_)
    throw UserError("DistributedSampler: rank " + std::to_string(rank_) + " of " + std::to_string(num_replicas_) +
                    " replicas");
  if (n_ == 0) throw UserError("DistributedSampler: the dataset is empty");
  num_samples_ = (n_ + static_cast<size_t>(num_replicas_) - 1) / static_cast<size_t>(num_replicas_);
}

std::vector<size_t> DistributedSampler::indices(int64_t epoch) const {
  std::vector<size_t> order(n_);
  if (shuffle_) {
    torch::Generator gen = at::detail::createCPUGenerator(static_cast<uint64_t>(seed_ + epoch));
    const torch::Tensor perm = torch::randperm(static_cast<int64_t>(n_), gen, torch::TensorOptions().dtype(torch::kLong));
    const int64_t* p = perm.data_ptr<int64_t>();
    for (size_t i = 0; i < n_; ++i) order[i] = static_cast<size_t>(p[i]);
  } else {
    for (size_t i = 0; i < n_; ++i) order[i] = i;
  }
  const size_t replicas = static_cast<size_t>(num_replicas_);
  std::vector<size_t> out;
  out.reserve(num_samples_);
  for (size_t pos = static_cast<size_t>(rank_); pos < num_samples_ * replicas; pos += replicas) out.push_back(order[pos % n_]);
  return out;
}

}  // namespace cppdet::data
