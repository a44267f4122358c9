#pragma once
// Interface of dense (per-location) heads: RPNHead, RetinaHead, FCOSHead, ATSSHead, GFLHead.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <vector>

#include "cppdet/models/detector.h"
#include "cppdet/models/task/multiclass_nms.h"
#include "cppdet/structures/det_sample.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::models {

struct DenseHeadOutputs {
  std::vector<torch::Tensor> cls_scores;     // per level [N, A * cls_out_channels, H, W]
  std::vector<torch::Tensor> bbox_preds;     // per level [N, A * 4, H, W] (GFL: A * 4 * (reg_max + 1))
  std::vector<torch::Tensor> score_factors;  // per level [N, A, H, W] logits multiplied into the
                                             // scores at test time (FCOS / ATSS centerness); empty if none
};

class DenseHead : public torch::nn::Module {
 public:
  virtual DenseHeadOutputs forward(const std::vector<torch::Tensor>& feats) = 0;
  // Test-time post-processing (test_cfg) per image. For an RPN the result is the proposal
  // list (labels 0) in resized-image coordinates; with `rescale` boxes are divided by the
  // image's scale_factor.
  virtual std::vector<Detections> get_bboxes(const DenseHeadOutputs& outputs,
                                             const std::vector<ImageMeta>& metas, bool rescale) = 0;
  // Foreground classes (1 for an RPN).
  virtual int64_t num_classes() const = 0;
  // Training losses of a batch (mmdet's head.loss) from `outputs` of forward(); `gts` one per
  // image on the outputs' device. Multi-level terms are already summed over levels in level
  // order (what mmdet's _parse_losses logs). Heads without training support throw UserError.
  virtual LossTerms loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                         const std::vector<GtInstances>& gts, DebugTrace* trace = nullptr);
};

}  // namespace cppdet::models
