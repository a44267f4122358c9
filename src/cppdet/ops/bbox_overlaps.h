#pragma once
// Box overlaps as mmdet 2.x's bbox_overlaps: no "+1" in widths, union clamped to >= eps.
#include <torch/types.h>

#include <string>

namespace cppdet::ops {

enum class OverlapMode { kIoU, kIoF, kGIoU };

// "iou" | "iof" | "giou"; anything else throws std::invalid_argument naming the mode.
OverlapMode overlap_mode_from_string(const std::string& mode);

// bboxes1 [..., M, 4], bboxes2 [..., N, 4] (x1 y1 x2 y2). Returns [..., M, N], or [..., M]
// when `aligned` (M == N, pairwise rows). iof divides by the area of bboxes1.
// Device-agnostic (tensor ops only).
torch::Tensor bbox_overlaps(const torch::Tensor& bboxes1, const torch::Tensor& bboxes2,
                            OverlapMode mode = OverlapMode::kIoU, bool aligned = false,
                            double eps = 1e-6);

}  // namespace cppdet::ops
