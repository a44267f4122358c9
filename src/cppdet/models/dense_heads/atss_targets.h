#pragma once
// The training targets ATSSHead and GFLHead share (mmdet's ATSSHead.get_targets /
// _get_target_single, which GFLHead repeats): per image, the anchors valid for its pad_shape
// (and inside img_shape +- allowed_border when that is >= 0) are assigned by ATSSAssigner with
// the per-level counts of those anchors and taken as they are (PseudoSampler): positives get
// their gt's label, the gt box (or its encoding by `coder`) as box target and label weight
// pos_weight (<= 0: 1); negatives label weight 1; anchors outside the image label background
// and weight 0.
#include <torch/types.h>

#include <string>
#include <vector>

#include "cppdet/models/detector.h"
#include "cppdet/models/task/prior_generator.h"
#include "cppdet/structures/det_sample.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::models {

class ATSSAssigner;
class BBoxCoder;

struct AtssTargets {
  // Per level, images concatenated (image-major, like predictions flattened from [N, ., H, W]).
  std::vector<torch::Tensor> anchors;        // [N * n_l, 4]
  std::vector<torch::Tensor> labels;         // [N * n_l] int64, num_classes = background
  std::vector<torch::Tensor> label_weights;  // [N * n_l] float
  std::vector<torch::Tensor> bbox_targets;   // [N * n_l, 4]
  // max(sum over images of max(#positives, 1), 1): the classification average factor.
  double num_total_samples = 1;
};

struct AtssTargetSettings {
  const ATSSAssigner* assigner = nullptr;
  const BBoxCoder* coder = nullptr;  // nullptr: the box targets are the gt boxes (reg_decoded_bbox)
  double allowed_border = -1;
  double pos_weight = -1;
  int64_t num_classes = 0;
  std::string trace_name = "bbox_head";  // records "<name>.assign.gt_inds.<b>", ".max_overlaps.<b>", ".labels.<b>"
};

// level_anchors [n_l, 4] per level, valid per level from `generator` for each image's pad_shape.
AtssTargets atss_targets(const std::vector<torch::Tensor>& level_anchors, const std::vector<FeatSize>& featmap_sizes,
                         const PriorGenerator& generator, const std::vector<ImageMeta>& metas,
                         const std::vector<GtInstances>& gts, const AtssTargetSettings& settings, DebugTrace* trace);

}  // namespace cppdet::models
