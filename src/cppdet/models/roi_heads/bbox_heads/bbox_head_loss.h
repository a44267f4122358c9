#pragma once
// mmdet 2.x BBoxHead training: targets of the sampled RoIs and the loss.
//  * targets per image: positives get their gt label, label weight pos_weight (<= 0: 1.0)
//    and encoded box deltas (weights 1); negatives the background label num_classes and
//    label weight 1; images concatenated;
//  * loss_cls over all RoIs with avg_factor = max(#(label_weight > 0), 1); acc = top-1
//    accuracy in percent; loss_bbox over the positives' class-specific (or agnostic)
//    deltas with avg_factor = the number of sampled RoIs (not the positives).
#include <torch/types.h>

#include <vector>

#include "cppdet/models/detector.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/roi_heads/bbox_heads/bbox_head.h"
#include "cppdet/models/task/bbox_coder.h"
#include "cppdet/models/task/sampling_result.h"

namespace cppdet::models {

struct BBoxTargets {
  torch::Tensor labels;         // [R] int64
  torch::Tensor label_weights;  // [R] float
  torch::Tensor bbox_targets;   // [R, 4]
  torch::Tensor bbox_weights;   // [R, 4]
};

BBoxTargets bbox_head_targets(const std::vector<SamplingResult>& sampling_results, const BBoxCoder& coder,
                              int64_t num_classes, double pos_weight, bool reg_decoded_bbox);

struct BBoxLossSettings {
  int64_t num_classes = 80;
  bool reg_class_agnostic = false;
  bool reg_decoded_bbox = false;
  const BBoxCoder* coder = nullptr;
  const Loss* loss_cls = nullptr;
  const Loss* loss_bbox = nullptr;
};

// loss_cls, acc, loss_bbox (mmdet's order); rois [R, 5].
LossTerms bbox_head_loss(const BBoxHeadOutputs& outputs, const torch::Tensor& rois, const BBoxTargets& targets,
                         const BBoxLossSettings& settings);

}  // namespace cppdet::models
