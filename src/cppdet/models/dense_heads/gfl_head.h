#pragma once
// mmdet 2.x GFLHead (Generalized Focal Loss, an AnchorHead with one anchor per position): cls
// and reg towers of stacked_convs ConvModules (GN(32) by default), then gfl_cls (C logits,
// classification-quality scores) and gfl_reg (4 * (reg_max + 1) distribution logits), 3x3;
// Scale_l per level multiplies the logits. Each side's reg_max + 1 bins are contiguous
// (l, t, r, b); Integral turns them into a distance (softmax, expectation over 0..reg_max, in
// stride units), decoded from the anchor centre by DistancePointBBoxCoder.
// Test: score = sigmoid(cls) (no score factor).
// Training: ATSSAssigner targets (atss_targets.h, the gt boxes as targets); per level, in
// stride units, with w = the positive's highest predicted class score (detached):
//   loss_cls  QualityFocalLoss against IoU(decoded prediction, gt) at the gt class, weighted
//             by the label weights, / num_total_samples;
//   loss_bbox on the decoded positives weighted by w;
//   loss_dfl  DistributionFocalLoss of each side's bins against the gt distance (clamped to
//             [0, reg_max - 0.1]) weighted by w, / 4;
// loss_bbox and loss_dfl / the sum over levels of w (at least 1); each term summed over levels.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include "cppdet/models/dense_heads/anchor_head.h"

namespace cppdet::models {

// GFL's Integral: buffer "project" = linspace(0, reg_max, reg_max + 1).
class IntegralImpl : public torch::nn::Module {
 public:
  explicit IntegralImpl(int64_t reg_max);
  // x [P, 4 * (reg_max + 1)] (or any shape with that many values per row) -> [P, 4].
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor project;  // [reg_max + 1]
 private:
  int64_t reg_max_;
};
TORCH_MODULE(Integral);

struct GFLHeadOptions {
  AnchorHeadOptions head;
  int64_t stacked_convs = 4;
  int64_t reg_max = 16;
  std::optional<NormConfig> norm_cfg;
  config::Value loss_dfl;
  std::string loss_dfl_path;

  static GFLHeadOptions from_config(const config::Value& cfg, const std::string& path, const HeadConfigs& head_cfgs);
};

class GFLHead : public AnchorHead {
 public:
  explicit GFLHead(const GFLHeadOptions& options);
  // cls_scores [N, C, H, W], bbox_preds [N, 4 * (reg_max + 1), H, W] (after Scale), per level.
  DenseHeadOutputs forward(const std::vector<torch::Tensor>& feats) override;
  LossTerms loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                 const std::vector<GtInstances>& gts, DebugTrace* trace = nullptr) override;

 protected:
  Detections get_bboxes_single(const std::vector<torch::Tensor>& cls_scores, const std::vector<torch::Tensor>& bbox_preds,
                               const std::vector<torch::Tensor>& score_factors, const std::vector<torch::Tensor>& priors,
                               const ImageMeta& meta, const DenseTestConfig& cfg, bool rescale) override;

 private:
  GFLHeadOptions gfl_options_;
  std::vector<double> strides_;  // per level (square strides)
  std::shared_ptr<Loss> loss_dfl_;
  torch::nn::ModuleList cls_convs_{nullptr};
  torch::nn::ModuleList reg_convs_{nullptr};
  torch::nn::Conv2d gfl_cls_{nullptr};
  torch::nn::Conv2d gfl_reg_{nullptr};
  torch::nn::ModuleList scales_{nullptr};
  Integral integral_{nullptr};
};

}  // namespace cppdet::models
