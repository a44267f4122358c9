#pragma once
// mmdet 2.x RetinaHead: stacked_convs ConvModules in two towers ("cls_convs.i.conv",
// "reg_convs.i.conv"), then retina_cls (A*C sigmoid logits) and retina_reg (A*4), all 3x3.
// Anchors default to octave scales (octave_base_scale 4, 3 scales per octave).
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include "cppdet/models/dense_heads/anchor_head.h"

namespace cppdet::models {

struct RetinaHeadOptions {
  AnchorHeadOptions head;
  int64_t stacked_convs = 4;
  std::optional<NormConfig> norm_cfg;

  static RetinaHeadOptions from_config(const config::Value& cfg, const std::string& path, const HeadConfigs& head_cfgs);
};

class RetinaHead : public AnchorHead {
 public:
  explicit RetinaHead(const RetinaHeadOptions& options);
  DenseHeadOutputs forward(const std::vector<torch::Tensor>& feats) override;

 private:
  torch::nn::ModuleList cls_convs_{nullptr};
  torch::nn::ModuleList reg_convs_{nullptr};
  torch::nn::Conv2d retina_cls_{nullptr};
  torch::nn::Conv2d retina_reg_{nullptr};
};

}  // namespace cppdet::models
