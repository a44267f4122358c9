#include "cppdet/distributed/sync_batch_norm.h"

#include <torch/torch.h>

#include "cppdet/distributed/process_group.h"

namespace cppdet::distributed {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// [C] -> [1, C, 1, ...] to broadcast against an input of `dim` dimensions.
torch::Tensor per_channel(const torch::Tensor& v, int64_t dim) {
  std::vector<int64_t> shape(static_cast<size_t>(dim), 1);
  shape[1] = v.size(0);
  return v.view(shape);
}

std::vector<int64_t> reduce_dims(int64_t dim) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < dim; ++d) dims.push_back(d);
  return dims;
}

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  // running_mean / running_var are updated in place; momentum < 0 means the cumulative
  // average (BatchNorm's momentum=None) with `factor` passed instead.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias, torch::Tensor running_mean, torch::Tensor running_var,
                               double eps, double factor, ProcessGroup* group_ptr) {
    ProcessGroup& group = *group_ptr;
    const torch::Tensor x = input.contiguous();
    const int64_t channels = x.size(1);
    const int64_t count = channels > 0 ? x.numel() / channels : 0;
    const std::vector<int64_t> dims = reduce_dims(x.dim());
    torch::Tensor combined;
    if (count > 0) {
      // torch.batch_norm_stats: mean and invstd of this rank's elements, per channel.
      const torch::Tensor mean = x.mean(dims);
      const torch::Tensor var = (x - per_channel(mean, x.dim())).pow(2).mean(dims);
      const torch::Tensor invstd = (var + eps).rsqrt();
      combined = torch::cat({mean, invstd, torch::full({1}, static_cast<double>(count), mean.options())});
    } else {
      combined = torch::zeros({2 * channels + 1}, x.options());
    }
    const std::vector<torch::Tensor> parts = group.all_gather(combined);
    // torch.batch_norm_gather_stats_with_counts, in double precision.
    const torch::Tensor all = torch::stack(parts).to(torch::kDouble);  // [world, 2C + 1]
    const torch::Tensor counts = all.select(1, 2 * channels);          // [world]
    const torch::Tensor keep = counts >= 1;
    const torch::Tensor means = all.narrow(1, 0, channels).index({keep});
    const torch::Tensor invstds = all.narrow(1, channels, channels).index({keep});
    const torch::Tensor n = counts.index({keep}).unsqueeze(1);  // [k, 1]
    const torch::Tensor total = n.sum();
    const torch::Tensor mean = (means * n).sum(0) / total;
    const torch::Tensor vars = invstds.pow(-2) - eps;
    const torch::Tensor var = ((vars + (means - mean).pow(2)) * n).sum(0) / total;
    const torch::Tensor invstd = (var + eps).rsqrt();
    if (running_mean.defined()) {
      torch::NoGradGuard no_grad;
      const double total_count = total.item<double>();
      const torch::Tensor unbiased = var * (total_count / std::max(total_count - 1.0, 1.0));
      running_mean.mul_(1.0 - factor).add_(mean.to(running_mean.scalar_type()), factor);
      running_var.mul_(1.0 - factor).add_(unbiased.to(running_var.scalar_type()), factor);
    }
    const torch::Tensor mean_x = mean.to(x.scalar_type());
    const torch::Tensor invstd_x = invstd.to(x.scalar_type());
    ctx->save_for_backward({x, weight, mean_x, invstd_x});
    ctx->saved_data["total"] = total.item<double>();
    // The group outlives the backward pass (it lives as long as the distributed run).
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group_ptr);
    torch::Tensor y = (x - per_channel(mean_x, x.dim())) * per_channel(invstd_x, x.dim());
    if (weight.defined()) y = y * per_channel(weight, x.dim()) + per_channel(bias, x.dim());
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& mean = saved[2];
    const torch::Tensor& invstd = saved[3];
    const double total = ctx->saved_data["total"].toDouble();
    const torch::Tensor dy = grad_outputs[0].contiguous();
    const int64_t dim = x.dim();
    const std::vector<int64_t> dims = reduce_dims(dim);
    const torch::Tensor xmu = x - per_channel(mean, dim);
    // torch.batch_norm_backward_reduce: this rank's sums and its weight / bias gradients.
    torch::Tensor sum_dy = dy.sum(dims);
    torch::Tensor sum_dy_xmu = (dy * xmu).sum(dims);
    torch::Tensor grad_weight, grad_bias;
    if (weight.defined()) {
      grad_weight = sum_dy_xmu * invstd;
      grad_bias = sum_dy;
    }
    torch::Tensor grad_input;
    if (ctx->needs_input_grad(0)) {
      const int64_t channels = sum_dy.size(0);
      torch::Tensor combined = torch::cat({sum_dy, sum_dy_xmu});
      reinterpret_cast<ProcessGroup*>(ctx->saved_data["group"].toInt())->all_reduce(combined);
      sum_dy = combined.narrow(0, 0, channels);
      sum_dy_xmu = combined.narrow(0, channels, channels);
      // torch.batch_norm_backward_elemt.
      const torch::Tensor mean_dy = per_channel(sum_dy / total, dim);
      const torch::Tensor mean_dy_xmu = per_channel(sum_dy_xmu / total, dim);
      const torch::Tensor inv = per_channel(invstd, dim);
      const torch::Tensor scale = weight.defined() ? inv * per_channel(weight, dim) : inv;
      grad_input = (dy - mean_dy - xmu * inv * inv * mean_dy_xmu) * scale;
    }
    return {grad_input,      grad_weight,     grad_bias,       torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor sync_batch_norm(const torch::Tensor& input, torch::nn::BatchNorm2dImpl& bn, ProcessGroup* group) {
  if (!bn.is_training() || !group || group->world_size() < 2) return bn.forward(input);
  const torch::nn::BatchNormOptions& o = bn.options;
  double factor = o.momentum().has_value() ? *o.momentum() : 0.0;
  torch::Tensor running_mean, running_var;
  if (o.track_running_stats()) {
    torch::NoGradGuard no_grad;
    bn.num_batches_tracked.add_(1);
    if (!o.momentum().has_value()) factor = 1.0 / bn.num_batches_tracked.item<double>();
    running_mean = bn.running_mean;
    running_var = bn.running_var;
  }
  return SyncBatchNormFunction::apply(input, o.affine() ? bn.weight : torch::Tensor(),
                                      o.affine() ? bn.bias : torch::Tensor(), running_mean, running_var, o.eps(),
                                      factor, group);
}

}  // namespace cppdet::distributed
