#pragma once
// Interface of RoI heads (second stage of two-stage detectors).
#include <torch/nn/module.h>
#include <torch/types.h>

#include <vector>

#include "cppdet/models/detector.h"
#include "cppdet/structures/det_result.h"
#include "cppdet/structures/det_sample.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::models {

class RoIHead : public torch::nn::Module {
 public:
  // feats: neck outputs; proposals: per image [P, 4 or 5] in resized-image coordinates.
  virtual std::vector<DetResult> simple_test(const std::vector<torch::Tensor>& feats,
                                             const std::vector<torch::Tensor>& proposals,
                                             const std::vector<ImageMeta>& metas, bool rescale,
                                             DebugTrace* trace) = 0;
  // Training losses (mmdet's roi_head.forward_train): proposals per image [P, 4 or 5] from the
  // RPN (no gradient), gts one per image. Heads without training support throw UserError.
  virtual LossTerms forward_train(const std::vector<torch::Tensor>& feats, const std::vector<torch::Tensor>& proposals,
                                  const std::vector<ImageMeta>& metas, const std::vector<GtInstances>& gts,
                                  DebugTrace* trace = nullptr);
  virtual bool with_mask() const = 0;
  virtual int64_t num_classes() const = 0;
};

}  // namespace cppdet::models
