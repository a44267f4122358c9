#pragma once
// Interface of RoI box heads.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <array>
#include <utility>
#include <vector>

#include "cppdet/models/detector.h"
#include "cppdet/models/task/multiclass_nms.h"
#include "cppdet/models/task/sampling_result.h"

namespace cppdet::models {

struct BBoxHeadOutputs {
  torch::Tensor cls_score;  // [K, num_classes + 1] logits, background last
  torch::Tensor bbox_pred;  // [K, 4 * num_classes] (or [K, 4] class-agnostic) deltas
};

// Test-time box post-processing settings (test_cfg.rcnn).
struct RcnnTestConfig {
  double score_thr = 0.05;
  NmsConfig nms;
  int64_t max_per_img = 100;
  double mask_thr_binary = 0.5;
};

class BBoxHead : public torch::nn::Module {
 public:
  virtual BBoxHeadOutputs forward(const torch::Tensor& roi_feats) = 0;
  // rois [K, 5] of one image -> detections; boxes decoded, clipped to img_shape (h, w) and,
  // with `rescale`, divided by scale_factor.
  virtual Detections get_bboxes(const torch::Tensor& rois, const BBoxHeadOutputs& outputs,
                                std::pair<int64_t, int64_t> img_shape,
                                const std::array<float, 4>& scale_factor, bool rescale,
                                const RcnnTestConfig& cfg) = 0;
  virtual int64_t num_classes() const = 0;
  // Training (mmdet's get_targets + loss) on the sampled RoIs of a batch: `rois` [R, 5] are
  // bbox2roi of each image's sampling_results[i].bboxes() (positives first), `outputs` the
  // head's forward on them; pos_weight is train_cfg.rcnn.pos_weight (<= 0: 1.0). Returns
  // loss_cls, acc, loss_bbox. Heads without training support throw UserError.
  virtual LossTerms loss(const BBoxHeadOutputs& outputs, const torch::Tensor& rois,
                         const std::vector<SamplingResult>& sampling_results, double pos_weight);
  // mmdet's regress_by_class (Cascade R-CNN between stages): boxes [K, 4] moved by each row's
  // deltas, of its class `labels` [K] when the head regresses per class (ignored when
  // class-agnostic), decoded with the head's coder and clipped to img_shape (h, w). Heads
  // without box regression throw UserError.
  virtual torch::Tensor regress_by_class(const torch::Tensor& boxes, const torch::Tensor& labels,
                                         const torch::Tensor& bbox_pred, std::pair<int64_t, int64_t> img_shape) const;
};

}  // namespace cppdet::models
