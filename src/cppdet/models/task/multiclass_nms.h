#pragma once
// mmdet 2.x post-processing: the `nms=dict(type='nms' | 'soft_nms', iou_threshold=...)` config
// and multiclass_nms (score > score_thr strict, proposal-major/class-minor candidates,
// class-aware batched NMS, first max_num by score).
#include <torch/types.h>

#include <optional>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/ops/soft_nms.h"

namespace cppdet::models {

struct NmsConfig {
  double iou_threshold = 0.5;
  bool class_agnostic = false;
  int64_t split_thr = 10000;
  std::optional<ops::SoftNmsOptions> soft;  // type='soft_nms': mmcv's soft_nms replaces NMS

  // dict(type='nms', iou_threshold=0.5[, class_agnostic, split_thr]) or
  // dict(type='soft_nms'[, iou_threshold=0.3, sigma=0.5, min_score=1e-3,
  // method='linear'|'gaussian'|'naive', offset=0, class_agnostic, split_thr]) (mmcv's defaults;
  // the deprecated iou_thr is read as iou_threshold); other NMS types are rejected with the key path.
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
