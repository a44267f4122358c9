#pragma once
// mmdet 2.x post-processing: the `nms=dict(type='nms', iou_threshold=...)` config and
// multiclass_nms (score > score_thr strict, proposal-major/class-minor candidates,
// class-aware batched NMS, first max_num by score).
#include <torch/types.h>

#include <string>

#include "cppdet/config/value.h"

namespace cppdet::models {

struct NmsConfig {
  double iou_threshold = 0.5;
  bool class_agnostic = false;
  int64_t split_thr = 10000;

  // dict(type='nms', iou_threshold=0.5[, class_agnostic, split_thr]); other NMS types are
  // rejected with the key path.
  static NmsConfig from_config(const config::Value& cfg, const std::string& path);
};

struct Detections {
  torch::Tensor bboxes;  // [K, 5] x1 y1 x2 y2 score, descending score
  torch::Tensor labels;  // [K] int64
};

// multi_bboxes [N, 4 * C] (class-specific) or [N, 4]; multi_scores [N, C + 1], background last.
Detections multiclass_nms(const torch::Tensor& multi_bboxes, const torch::Tensor& multi_scores,
                          double score_thr, const NmsConfig& nms, int64_t max_num = -1);

}  // namespace cppdet::models
