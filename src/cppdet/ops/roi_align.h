#pragma once
// RoIAlign, average mode, with mmcv/torchvision semantics (bit-exact with
// torchvision.ops.roi_align on CPU): aligned=True shifts RoI coordinates by -0.5 after
// scaling and skips the minimum-size-1 clamp; sampling_ratio <= 0 uses an adaptive
// ceil(roi_size / out_size) grid per RoI; samples outside [-1, H] x [-1, W] contribute 0 but
// count in the average.
#include <torch/types.h>

namespace cppdet::ops {

// input [B, C, H, W]; rois [K, 5] (batch_index, x1, y1, x2, y2) in input-image pixels.
// Returns [K, C, out_h, out_w]. Differentiable w.r.t. `input` when autograd is on.
torch::Tensor roi_align(const torch::Tensor& input, const torch::Tensor& rois, int64_t out_h,
                        int64_t out_w, double spatial_scale, int64_t sampling_ratio = 0,
                        bool aligned = true);

// The raw kernels (no autograd). roi_align_backward returns d(loss)/d(input) [B, C, H, W]
// for grad_output [K, C, out_h, out_w]; on CPU the accumulation order equals torchvision's.
torch::Tensor roi_align_forward(const torch::Tensor& input, const torch::Tensor& rois,
                                int64_t out_h, int64_t out_w, double spatial_scale,
                                int64_t sampling_ratio, bool aligned);
torch::Tensor roi_align_backward(const torch::Tensor& grad_output, const torch::Tensor& rois,
                                 int64_t out_h, int64_t out_w, double spatial_scale,
                                 int64_t sampling_ratio, bool aligned,
                                 at::IntArrayRef input_shape);

}  // namespace cppdet::ops
