#pragma once
// Soft-NMS with mmcv 1.6 semantics (mmcv.ops.soft_nms, CPU kernel softnms_cpu): repeatedly the
// highest remaining (decayed) score is kept, and every other remaining box's score is multiplied
// by a weight of its IoU with it:
//   naive     0 if IoU >= iou_threshold, else 1
//   linear    1 - IoU if IoU >= iou_threshold, else 1
//   gaussian  exp(-IoU^2 / sigma)
// a box whose score falls below min_score is dropped. IoU with `offset` added to extents, all in
// the boxes' dtype; ties go to the box mmcv's swap order meets first.
#include <torch/types.h>

#include <string>

namespace cppdet::ops {

enum class SoftNmsMethod { kNaive, kLinear, kGaussian };

struct SoftNmsOptions {
  double iou_threshold = 0.3;
  double sigma = 0.5;
  double min_score = 1e-3;
  SoftNmsMethod method = SoftNmsMethod::kLinear;
  int64_t offset = 0;
};

// "naive" | "linear" | "gaussian"; throws UserError otherwise.
SoftNmsMethod soft_nms_method(const std::string& name);

struct SoftNmsResult {
  torch::Tensor dets;  // [K, 5] x1 y1 x2 y2 decayed score, in selection (descending score) order
  torch::Tensor keep;  // [K] int64 indices into the inputs
};

// boxes [N, 4] x1 y1 x2 y2, scores [N] (same device and dtype). Runs on the CPU (as mmcv does)
// and returns the results on the inputs' device.
SoftNmsResult soft_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const SoftNmsOptions& options);

}  // namespace cppdet::ops
