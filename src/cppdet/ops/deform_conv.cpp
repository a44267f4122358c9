#include "cppdet/ops/deform_conv.h"

#include <torch/autograd.h>

#include <array>
#include <vector>

#include "cppdet/ops/cuda_kernels.h"
#include "cppdet/ops/deform_im2col.h"

namespace cppdet::ops {
namespace {

// The sampling kernels of the tensors' device.
torch::Tensor device_im2col(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                     const DeformGeometry& g) {
  if (input.is_cuda()) {
#ifdef CPPDET_WITH_CUDA
    return cuda::deform_im2col(input, offset, mask, g);
#else
    cuda::unavailable("deform_conv2d");
#endif
  }
  return deform_im2col_cpu(input, offset, mask, g);
}

void device_col2im(const torch::Tensor& grad_columns, const torch::Tensor& offset, const torch::Tensor& mask,
            const DeformGeometry& g, torch::Tensor& grad_input) {
  if (grad_columns.is_cuda()) {
#ifdef CPPDET_WITH_CUDA
    cuda::deform_col2im(grad_columns, offset, mask, g, grad_input);
    return;
#else
    cuda::unavailable("deform_conv2d backward");
#endif
  }
  deform_col2im_cpu(grad_columns, offset, mask, g, grad_input);
}

void device_col2im_coord(const torch::Tensor& grad_columns, const torch::Tensor& input, const torch::Tensor& offset,
                  const torch::Tensor& mask, const DeformGeometry& g, torch::Tensor& grad_offset,
                  torch::Tensor& grad_mask) {
  if (grad_columns.is_cuda()) {
#ifdef CPPDET_WITH_CUDA
    cuda::deform_col2im_coord(grad_columns, input, offset, mask, g, grad_offset, grad_mask);
    return;
#else
    cuda::unavailable("deform_conv2d backward");
#endif
  }
  deform_col2im_coord_cpu(grad_columns, input, offset, mask, g, grad_offset, grad_mask);
}

torch::Tensor batch_item(const torch::Tensor& t, int64_t b) { return t.defined() ? t[b] : t; }

void check_deform_inputs(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                         const torch::Tensor& weight, const torch::Tensor& bias, const DeformConvParams& p,
                         const DeformGeometry& g) {
  TORCH_CHECK(input.dim() == 4, "deform_conv2d: input must be [N, C, H, W], got ", input.sizes());
  TORCH_CHECK(weight.dim() == 4, "deform_conv2d: weight must be [C_out, C_in / groups, kh, kw], got ", weight.sizes());
  TORCH_CHECK(input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kDouble,
              "deform_conv2d: float or double tensors expected, got ", input.scalar_type());
  TORCH_CHECK(p.groups > 0 && p.deform_groups > 0, "deform_conv2d: groups and deform_groups must be positive");
  TORCH_CHECK(p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 && p.dilation_w > 0 && p.pad_h >= 0 && p.pad_w >= 0,
              "deform_conv2d: strides and dilations must be positive, paddings non-negative");
  TORCH_CHECK(input.size(1) == weight.size(1) * p.groups, "deform_conv2d: input has ", input.size(1),
              " channels, weight expects ", weight.size(1), " x ", p.groups, " groups");
  TORCH_CHECK(weight.size(0) % p.groups == 0, "deform_conv2d: ", weight.size(0), " output channels for ", p.groups,
              " groups");
  TORCH_CHECK(input.size(1) % p.deform_groups == 0, "deform_conv2d: ", input.size(1), " input channels for ",
              p.deform_groups, " deform groups");
  TORCH_CHECK(g.height > 0 && g.width > 0 && g.out_h > 0 && g.out_w > 0, "deform_conv2d: input ", input.sizes(),
              " too small for the kernel (output ", g.out_h, "x", g.out_w, ")");
  const int64_t taps = g.kernel_h * g.kernel_w;
  const std::vector<int64_t> offset_shape{input.size(0), 2 * p.deform_groups * taps, g.out_h, g.out_w};
  TORCH_CHECK(offset.sizes() == offset_shape, "deform_conv2d: offset must be ", at::IntArrayRef(offset_shape), ", got ",
              offset.sizes());
  if (mask.defined()) {
    const std::vector<int64_t> mask_shape{input.size(0), p.deform_groups * taps, g.out_h, g.out_w};
    TORCH_CHECK(mask.sizes() == mask_shape, "deform_conv2d: mask must be ", at::IntArrayRef(mask_shape), ", got ",
                mask.sizes());
  }
  if (bias.defined())
    TORCH_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "deform_conv2d: bias must be [", weight.size(0),
                "], got ", bias.sizes());
  for (const torch::Tensor* t : {&offset, &mask, &weight, &bias}) {
    if (!t->defined()) continue;
    TORCH_CHECK(t->device() == input.device(), "deform_conv2d: all tensors must be on ", input.device());
    TORCH_CHECK(t->scalar_type() == input.scalar_type(), "deform_conv2d: all tensors must be ", input.scalar_type());
  }
}

DeformGeometry geometry_of(const torch::Tensor& input, const torch::Tensor& weight, const DeformConvParams& p) {
  DeformGeometry g;
  g.channels = input.size(1);
  g.height = input.size(2);
  g.width = input.size(3);
  g.kernel_h = weight.size(2);
  g.kernel_w = weight.size(3);
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.dilation_h = p.dilation_h;
  g.dilation_w = p.dilation_w;
  g.out_h = (g.height + 2 * p.pad_h - (p.dilation_h * (g.kernel_h - 1) + 1)) / p.stride_h + 1;
  g.out_w = (g.width + 2 * p.pad_w - (p.dilation_w * (g.kernel_w - 1) + 1)) / p.stride_w + 1;
  g.deform_groups = p.deform_groups;
  return g;
}

// weight [C_out, C_in / groups, kh, kw] -> [groups, C_out / groups, C_in / groups * kh * kw].
torch::Tensor grouped_weight(const torch::Tensor& weight, int64_t groups) {
  return weight.reshape({groups, weight.size(0) / groups, -1});
}

// out [G, M, N] (+)= a [G, M, K] @ b [G, K, N]; one plain GEMM without groups.
void grouped_mm_out(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b, bool accumulate = false) {
  if (a.size(0) == 1) {
    torch::Tensor out0 = out[0];
    if (accumulate)
      out0.addmm_(a[0], b[0]);
    else
      at::mm_out(out0, a[0], b[0]);
  } else if (accumulate) {
    out.baddbmm_(a, b);
  } else {
    at::bmm_out(out, a, b);
  }
}

// input [N, C_in, H, W] ... -> [N, C_out, H_out, W_out]: per image, columns then one GEMM per
// convolution group (as mmcv's deform_conv_forward with im2col_step 1), then the bias.
torch::Tensor deform_forward(const torch::Tensor& input0, const torch::Tensor& offset0, const torch::Tensor& mask0,
                             const torch::Tensor& weight, const torch::Tensor& bias, const DeformConvParams& p) {
  const DeformGeometry g = geometry_of(input0, weight, p);
  check_deform_inputs(input0, offset0, mask0, weight, bias, p, g);
  const torch::Tensor input = input0.contiguous(), offset = offset0.contiguous();
  const torch::Tensor mask = mask0.defined() ? mask0.contiguous() : mask0;
  const int64_t batch = input.size(0), out_channels = weight.size(0), positions = g.out_h * g.out_w;
  const torch::Tensor w = grouped_weight(weight.contiguous(), p.groups);  // [G, C_out / G, C_in / G * K]
  torch::Tensor output = torch::empty({batch, out_channels, positions}, input.options());
  for (int64_t b = 0; b < batch; ++b) {
    const torch::Tensor columns = device_im2col(input[b], offset[b], batch_item(mask, b), g);  // [C_in * K, P]
    torch::Tensor out = output[b].view({p.groups, out_channels / p.groups, positions});
    grouped_mm_out(out, w, columns.view({p.groups, -1, positions}));
  }
  if (bias.defined()) output.add_(bias.view({1, -1, 1}));
  return output.view({batch, out_channels, g.out_h, g.out_w});
}

// Gradients w.r.t. (input, offset, mask, weight, bias); those not in `needed` stay undefined.
std::array<torch::Tensor, 5> deform_backward(const torch::Tensor& grad_output0, const torch::Tensor& input,
                                             const torch::Tensor& offset, const torch::Tensor& mask,
                                             const torch::Tensor& weight, bool has_bias, const DeformConvParams& p,
                                             const std::array<bool, 5>& needed) {
  const DeformGeometry g = geometry_of(input, weight, p);
  const int64_t batch = input.size(0), out_channels = weight.size(0), positions = g.out_h * g.out_w;
  const torch::Tensor grad_output = grad_output0.contiguous().view({batch, p.groups, out_channels / p.groups, positions});
  const torch::Tensor w = grouped_weight(weight.contiguous(), p.groups);
  std::array<torch::Tensor, 5> grads;
  auto& [grad_input, grad_offset, grad_mask, grad_weight, grad_bias] = grads;
  const bool sampling = needed[0] || needed[1] || (mask.defined() && needed[2]);
  if (needed[0]) grad_input = torch::zeros_like(input);
  if (needed[1] || (mask.defined() && needed[2])) {
    grad_offset = torch::zeros_like(offset);
    if (mask.defined()) grad_mask = torch::zeros_like(mask);
  }
  if (needed[3]) grad_weight = torch::zeros_like(w);
  for (int64_t b = 0; b < batch; ++b) {
    const torch::Tensor go = grad_output[b];  // [G, C_out / G, P]
    if (sampling) {
      torch::Tensor grad_columns = torch::empty({p.groups, w.size(2), positions}, go.options());
      grouped_mm_out(grad_columns, w.transpose(1, 2), go);
      grad_columns = grad_columns.view({-1, positions});  // [C_in * K, P]
      if (grad_input.defined()) {
        torch::Tensor gi = grad_input[b];
        device_col2im(grad_columns, offset[b], batch_item(mask, b), g, gi);
      }
      if (grad_offset.defined()) {
        torch::Tensor go_offset = grad_offset[b];
        torch::Tensor go_mask = batch_item(grad_mask, b);
        device_col2im_coord(grad_columns, input[b], offset[b], batch_item(mask, b), g, go_offset, go_mask);
      }
    }
    if (grad_weight.defined()) {
      const torch::Tensor columns = device_im2col(input[b], offset[b], batch_item(mask, b), g);
      grouped_mm_out(grad_weight, go, columns.view({p.groups, -1, positions}).transpose(1, 2), /*accumulate=*/true);
    }
  }
  if (grad_weight.defined()) grad_weight = grad_weight.view(weight.sizes());
  if (has_bias && needed[4]) grad_bias = grad_output.sum(std::vector<int64_t>{0, 3}).view({out_channels});
  if (!needed[1]) grad_offset = torch::Tensor();
  if (!needed[2]) grad_mask = torch::Tensor();
  return grads;
}

class DeformConvFunction : public torch::autograd::Function<DeformConvFunction> {
 public:
  // mask and bias are absent for v1 / without bias (autograd::Function takes no undefined tensors).
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& offset, const c10::optional<torch::Tensor>& mask_arg,
                               const torch::Tensor& weight, const c10::optional<torch::Tensor>& bias_arg,
                               const DeformConvParams& p) {
    const torch::Tensor mask = mask_arg.value_or(torch::Tensor()), bias = bias_arg.value_or(torch::Tensor());
    ctx->saved_data["params"] = std::vector<int64_t>{p.stride_h, p.stride_w,   p.pad_h,  p.pad_w,
                                                     p.dilation_h, p.dilation_w, p.groups, p.deform_groups};
    ctx->saved_data["has_bias"] = bias.defined();
    ctx->save_for_backward({input, offset, mask, weight});
    return deform_forward(input, offset, mask, weight, bias, p);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const std::vector<int64_t> v = ctx->saved_data["params"].toIntVector();
    DeformConvParams p;
    p.stride_h = v[0];
    p.stride_w = v[1];
    p.pad_h = v[2];
    p.pad_w = v[3];
    p.dilation_h = v[4];
    p.dilation_w = v[5];
    p.groups = v[6];
    p.deform_groups = v[7];
    // needs_input_grad counts only the tensors given: an absent mask shifts weight and bias.
    const bool has_mask = saved[2].defined(), has_bias = ctx->saved_data["has_bias"].toBool();
    const size_t weight_edge = has_mask ? 3 : 2;
    const std::array<bool, 5> needed{ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                     has_mask && ctx->needs_input_grad(2), ctx->needs_input_grad(weight_edge),
                                     has_bias && ctx->needs_input_grad(weight_edge + 1)};
    std::array<torch::Tensor, 5> g = deform_backward(grads[0], saved[0], saved[1], saved[2], saved[3], has_bias, p, needed);
    return {g[0], g[1], g[2], g[3], g[4], torch::Tensor()};
  }
};

torch::Tensor deform_apply(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                           const torch::Tensor& weight, const torch::Tensor& bias, const DeformConvParams& p) {
  bool any_grad = false;
  for (const torch::Tensor* t : {&input, &offset, &mask, &weight, &bias})
    any_grad = any_grad || (t->defined() && t->requires_grad());
  if (torch::GradMode::is_enabled() && any_grad) {
    auto optional = [](const torch::Tensor& t) { return t.defined() ? c10::optional<torch::Tensor>(t) : c10::nullopt; };
    return DeformConvFunction::apply(input, offset, optional(mask), weight, optional(bias), p);
  }
  return deform_forward(input, offset, mask, weight, bias, p);
}

}  // namespace

torch::Tensor deform_conv2d(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& weight,
                            const DeformConvParams& params) {
  return deform_apply(input, offset, torch::Tensor(), weight, torch::Tensor(), params);
}

torch::Tensor modulated_deform_conv2d(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                                      const torch::Tensor& weight, const torch::Tensor& bias,
                                      const DeformConvParams& params) {
  TORCH_CHECK(mask.defined(), "modulated_deform_conv2d: a mask is required");
  return deform_apply(input, offset, mask, weight, bias, params);
}

}  // namespace cppdet::ops
