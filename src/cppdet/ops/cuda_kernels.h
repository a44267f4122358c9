#pragma once
// Entry points of the CUDA kernels (ops/*.cu, compiled only when CPPDET_WITH_CUDA). The
// public ops dispatch here for CUDA tensors; a CPU-only build raises a clear error instead.
#include <torch/types.h>

#include <string>

#include "cppdet/core/error.h"
#include "cppdet/ops/deform_im2col.h"

namespace cppdet::ops::cuda {

#ifdef CPPDET_WITH_CUDA
// Same contracts as the CPU functions in nms.h / roi_align.h / deform_im2col.h.
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                  int64_t offset);
torch::Tensor roi_align_forward(const torch::Tensor& input, const torch::Tensor& rois,
                                double spatial_scale, int64_t pooled_h, int64_t pooled_w,
                                int64_t sampling_ratio, bool aligned);
torch::Tensor roi_align_backward(const torch::Tensor& grad_output, const torch::Tensor& rois,
                                 double spatial_scale, int64_t pooled_h, int64_t pooled_w,
                                 int64_t batch_size, int64_t channels, int64_t height,
                                 int64_t width, int64_t sampling_ratio, bool aligned);
// Same contracts as the CPU sampling kernels in deform_im2col.h (one image).
torch::Tensor deform_im2col(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                            const DeformGeometry& g);
void deform_col2im(const torch::Tensor& grad_columns, const torch::Tensor& offset, const torch::Tensor& mask,
                   const DeformGeometry& g, torch::Tensor& grad_input);
void deform_col2im_coord(const torch::Tensor& grad_columns, const torch::Tensor& input, const torch::Tensor& offset,
                         const torch::Tensor& mask, const DeformGeometry& g, torch::Tensor& grad_offset,
                         torch::Tensor& grad_mask);
#endif

// Thrown when a CUDA tensor reaches an op in a build without CUDA kernels.
[[noreturn]] inline void unavailable(const std::string& op) {
  throw UserError("ops::" + op + ": got a CUDA tensor, but cppdet was built without CUDA kernels");
}

}  // namespace cppdet::ops::cuda
