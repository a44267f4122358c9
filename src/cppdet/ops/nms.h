#pragma once
// Non-maximum suppression with mmcv 1.x semantics (mmcv.ops.nms / batched_nms):
// scores sorted descending by torch's sort, IoU in the boxes' dtype with `offset` added to
// widths/heights (0 in mmdet 2.x), a box suppressed when IoU > iou_threshold (strict).
#include <torch/types.h>

#include <optional>

#include "cppdet/ops/soft_nms.h"

namespace cppdet::ops {

// boxes [N, 4] x1 y1 x2 y2, scores [N] (same device). Returns the kept indices [K] int64 in
// descending score order. Runs on the tensors' device (CPU kernel; CUDA kernel in CUDA builds).
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                  int64_t offset = 0);

struct BatchedNmsResult {
  torch::Tensor dets;  // [K, 5] x1 y1 x2 y2 score (original, un-offset boxes), descending score
  torch::Tensor keep;  // [K] int64 indices into the inputs
};

// Class-aware NMS: boxes of different `idxs` never suppress each other. Below `split_thr`
// boxes the coordinates are offset by idx * (max_coordinate + 1) and one NMS runs (mmcv's
// trick, which also fixes the float rounding of the IoU inputs); otherwise one NMS per idx,
// merged and re-sorted by score. With `class_agnostic` the idxs are ignored.
// With `soft`, mmcv's soft_nms (soft_nms.h, whose own iou_threshold applies) replaces NMS and
// the returned scores are the decayed ones, as mmcv's batched_nms takes them from its dets.
BatchedNmsResult batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores,
                             const torch::Tensor& idxs, double iou_threshold,
                             bool class_agnostic = false, int64_t split_thr = 10000,
                             const std::optional<SoftNmsOptions>& soft = std::nullopt);

}  // namespace cppdet::ops
