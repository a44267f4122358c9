#pragma once
// mmdet 2.x ATSSHead (an AnchorHead): cls and reg towers of stacked_convs ConvModules (GN(32)
// by default, no conv bias under a norm), then atss_cls (A*C), atss_reg (A*4) and
// atss_centerness (A, on the reg tower), pred_kernel_size x pred_kernel_size (3); Scale_l per
// level multiplies the deltas. Test: score = sigmoid(cls) x sigmoid(centerness), deltas
// decoded by the bbox coder (DeltaXYWHBBoxCoder) around the anchors.
// Training: ATSSAssigner targets (atss_targets.h); per level
//   loss_cls      over all anchors / num_total_samples,
//   loss_bbox     on the positives' decoded boxes (reg_decoded_bbox, default True: against
//                 the gt boxes) weighted by their centerness targets, / the sum over levels of
//                 those targets (at least 1),
//   loss_centerness BCE against the centerness targets / num_total_samples;
// each term summed over levels.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include "cppdet/models/dense_heads/anchor_head.h"

namespace cppdet::models {

struct ATSSHeadOptions {
  AnchorHeadOptions head;
  int64_t stacked_convs = 4;
  int64_t pred_kernel_size = 3;
  std::optional<NormConfig> norm_cfg;
  config::Value loss_centerness;
  std::string loss_centerness_path;

  static ATSSHeadOptions from_config(const config::Value& cfg, const std::string& path, const HeadConfigs& head_cfgs);
};

class ATSSHead : public AnchorHead {
 public:
  explicit ATSSHead(const ATSSHeadOptions& options);
  // cls_scores [N, A*C, H, W], bbox_preds [N, A*4, H, W] (after Scale), score_factors =
  // centerness logits [N, A, H, W], per level.
  DenseHeadOutputs forward(const std::vector<torch::Tensor>& feats) override;
  LossTerms loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                 const std::vector<GtInstances>& gts, DebugTrace* trace = nullptr) override;

 private:
  ATSSHeadOptions atss_options_;
  std::shared_ptr<Loss> loss_centerness_;
  torch::nn::ModuleList cls_convs_{nullptr};
  torch::nn::ModuleList reg_convs_{nullptr};
  torch::nn::Conv2d atss_cls_{nullptr};
  torch::nn::Conv2d atss_reg_{nullptr};
  torch::nn::Conv2d atss_centerness_{nullptr};
  torch::nn::ModuleList scales_{nullptr};
};

// The centerness of the anchors' centres in their gt boxes [P, 4]:
// sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b)) (mmdet's ATSSHead.centerness_target).
torch::Tensor atss_centerness_target(const torch::Tensor& anchors, const torch::Tensor& gts);

// Centres [P, 2] of anchors [P, 4] (GFLHead.anchor_center).
torch::Tensor anchor_centers(const torch::Tensor& anchors);

}  // namespace cppdet::models
