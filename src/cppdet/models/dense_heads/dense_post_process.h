#pragma once
// The test-time steps every mmdet 2.x dense head shares (BaseDenseHead): the head's test_cfg,
// the per-level score filter (filter_scores_and_topk) and the per-image finish
// (_bbox_post_process: rescale, score factors, class-aware NMS, max_per_img).
#include <torch/types.h>

#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/task/multiclass_nms.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::models {

// test_cfg of a dense head (test_cfg.rpn for an RPN, test_cfg for a one-stage detector).
struct DenseTestConfig {
  int64_t nms_pre = -1;        // per level, after sorting by score
  double score_thr = 0.0;      // strict >, one-stage heads only
  double min_bbox_size = 0.0;  // RPN: keep w > min_bbox_size and h > min_bbox_size (if >= 0)
  NmsConfig nms;
  int64_t max_per_img = -1;

  // Also accepts mmdet's legacy RPN keys nms_thr (-> nms.iou_threshold), max_num
  // (-> max_per_img) and nms_post (ignored), as mmdet 2.x does.
  static DenseTestConfig from_config(const config::Value& cfg, const std::string& path);
};

// Python's `x[:k]` length for a sequence of n items.
int64_t python_slice_len(int64_t k, int64_t n);

// One level's candidates after filter_scores_and_topk.
struct LevelCandidates {
  torch::Tensor scores;     // [K] descending
  torch::Tensor labels;     // [K] int64 class of each score
  torch::Tensor keep_idxs;  // [K] int64 prior index of each score
};

// mmdet's filter_scores_and_topk on scores [P, C]: the (prior, class) pairs with score >
// score_thr (strict), sorted descending, the first `topk` of them (Python slicing, so -1
// drops the last one, as mmdet does when nms_pre is absent).
LevelCandidates filter_scores_and_topk(const torch::Tensor& scores, double score_thr, int64_t topk);

// mmdet's _bbox_post_process with NMS for one image: per level bboxes [K, 4] (resized-image
// coordinates), scores [K], labels [K] and optional score factors [K] (empty vector: none).
// Boxes are divided by the image's scale_factor when `rescale`, scores multiplied by the
// factors (after the score filter: no second threshold), then class-aware batched NMS and
// the first max_per_img.
Detections bbox_post_process(const std::vector<torch::Tensor>& mlvl_bboxes, const std::vector<torch::Tensor>& mlvl_scores,
                             const std::vector<torch::Tensor>& mlvl_labels,
                             const std::vector<torch::Tensor>& mlvl_score_factors, const ImageMeta& meta,
                             const DenseTestConfig& cfg, bool rescale);

}  // namespace cppdet::models
