#pragma once
// torch.nn.SyncBatchNorm in training mode: batch normalisation whose statistics are those of
// the whole distributed batch (every rank's images).
//
// Forward (input [N, C, ...]): each rank's per-channel mean and invstd = 1/sqrt(var + eps)
// and element count, all-gathered; the global mean and biased variance combine them as
// torch's batch_norm_gather_stats_with_counts does (var_i = 1/invstd_i^2 - eps; ranks with
// no elements left out), the running statistics move by `momentum` towards the global mean
// and the unbiased variance (N / (N - 1)), and y = (x - mean) * invstd * weight + bias.
// Backward: each rank's sum(dy) and sum(dy * (x - mean)) are all-reduced and
//   dx = (dy - sum_dy / N - (x - mean) * invstd^2 * sum_dy_xmu / N) * invstd * weight,
// while weight and bias get this rank's own gradients (data parallelism averages them), as
// torch's batch_norm_backward_reduce / batch_norm_backward_elemt.
//
// With one process and in eval mode it is the module's own BatchNorm (torch falls back the
// same way).
#include <torch/nn/modules/batchnorm.h>

namespace cppdet::distributed {

class ProcessGroup;

// `group`: the ranks whose statistics are combined; null (no distributed run) = BatchNorm.
torch::Tensor sync_batch_norm(const torch::Tensor& input, torch::nn::BatchNorm2dImpl& bn, ProcessGroup* group);

}  // namespace cppdet::distributed
