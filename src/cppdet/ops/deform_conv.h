#pragma once
// Deformable convolution with mmcv 1.6's conventions: v1 (mmcv DeformConv2d,
// torchvision.ops.deform_conv2d without a mask) and v2, modulated (mmcv ModulatedDeformConv2d,
// torchvision with a mask).
//
// Kernel tap (i, j) of output pixel (ho, wo) reads the input at
//   h = ho * stride_h - pad_h + i * dilation_h + dy,   w = wo * stride_w - pad_w + j * dilation_w + dx
// by bilinear interpolation: 0 unless -1 < h < H and -1 < w < W; corners outside the image read 0.
// Offsets are laid out per deform group g and tap k = i * kw + j as channel
// 2 * (g * kh * kw + k) for dy and the next channel for dx ("[y0, x0, y1, x1, ...]"); the mask
// (already through the sigmoid) as channel g * kh * kw + k. Input channel c belongs to deform
// group c / (C_in / deform_groups). v2 multiplies each sample by its mask, then adds the bias.
//
// CPU kernels always (parallel im2col + GEMM); CUDA kernels in CUDA builds.
#include <torch/types.h>

namespace cppdet::ops {

struct DeformConvParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;         // convolution groups (C_in and C_out divisible)
  int64_t deform_groups = 1;  // offset groups (C_in divisible)
};

// input [N, C_in, H, W]; offset [N, 2 * deform_groups * kh * kw, H_out, W_out];
// weight [C_out, C_in / groups, kh, kw]. Returns [N, C_out, H_out, W_out].
// Differentiable w.r.t. input, offset and weight when autograd is on.
torch::Tensor deform_conv2d(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& weight,
                            const DeformConvParams& params);

// v2: mask [N, deform_groups * kh * kw, H_out, W_out]; bias [C_out] or undefined (none).
// Differentiable w.r.t. input, offset, mask, weight and bias.
torch::Tensor modulated_deform_conv2d(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                                      const torch::Tensor& weight, const torch::Tensor& bias,
                                      const DeformConvParams& params);

}  // namespace cppdet::ops
