#pragma once
// The sampling kernels of deformable convolution (ops/deform_conv.h), one image at a time:
// im2col gathers the bilinear samples into the columns a GEMM with the weight turns into the
// output; col2im and col2im_coord take the columns' gradient back to the input and to the
// offsets / mask. CPU versions here; the CUDA ones (same contracts) in cuda_kernels.h.
#include <torch/types.h>

namespace cppdet::ops {

// One image's sampling geometry. K = kernel_h * kernel_w taps, P = out_h * out_w positions.
struct DeformGeometry {
  int64_t channels = 0, height = 0, width = 0;  // the input [C, H, W]
  int64_t kernel_h = 0, kernel_w = 0;
  int64_t pad_h = 0, pad_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t out_h = 0, out_w = 0;
  int64_t deform_groups = 1;
};

// input [C, H, W], offset [2 * dg * K, out_h, out_w], mask [dg * K, out_h, out_w] or undefined
// (v1) -> columns [C * K, P]: row c * K + k holds tap k of channel c at every position, times
// the mask for v2. All contiguous, same dtype (float or double).
torch::Tensor deform_im2col_cpu(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                                const DeformGeometry& g);

// Adds d(loss)/d(input) for d(loss)/d(columns) `grad_columns` [C * K, P] into `grad_input`
// [C, H, W] (contiguous).
void deform_col2im_cpu(const torch::Tensor& grad_columns, const torch::Tensor& offset, const torch::Tensor& mask,
                       const DeformGeometry& g, torch::Tensor& grad_input);

// Writes d(loss)/d(offset) into `grad_offset` [2 * dg * K, out_h, out_w] and, for v2,
// d(loss)/d(mask) into `grad_mask` [dg * K, out_h, out_w] (contiguous; ignored for v1).
void deform_col2im_coord_cpu(const torch::Tensor& grad_columns, const torch::Tensor& input,
                             const torch::Tensor& offset, const torch::Tensor& mask, const DeformGeometry& g,
                             torch::Tensor& grad_offset, torch::Tensor& grad_mask);

}  // namespace cppdet::ops
