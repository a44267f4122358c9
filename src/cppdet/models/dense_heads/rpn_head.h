#pragma once
// mmdet 2.x RPNHead: rpn_conv (3x3, or num_convs ConvModules) -> ReLU -> rpn_cls (1x1, A
// sigmoid logits) and rpn_reg (1x1, A*4 deltas). Proposals: per level sort + top nms_pre,
// decode with clipping to img_shape, drop w/h <= min_bbox_size, NMS per level (batched with
// level ids), first max_per_img across levels.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include "cppdet/models/dense_heads/anchor_head.h"
#include "cppdet/models/precision/inference_precision.h"
#include "cppdet/models/precision/prepared_conv.h"

namespace cppdet::models {

struct RPNHeadOptions {
  AnchorHeadOptions head;
  int64_t num_convs = 1;

  static RPNHeadOptions from_config(const config::Value& cfg, const std::string& path, const HeadConfigs& head_cfgs);
};

class RPNHead : public AnchorHead, public PrecisionAware {
 public:
  explicit RPNHead(const RPNHeadOptions& options);
  // Outputs are float32; on the prepared path (bf16 / int8) feats may be in any activation form.
  DenseHeadOutputs forward(const std::vector<torch::Tensor>& feats) override;
  // bf16 / int8 / calibration: rpn_conv (+ ReLU) prepared; rpn_cls and rpn_reg return float32
  // (in int8 they run in float32 on the dequantized features). fp32: the plain layers.
  bool set_inference_precision(const InferencePrecision& precision, const std::string& path) override;
  // Proposals of each image [P, 5] (x1 y1 x2 y2 score) in resized-image coordinates.
  std::vector<torch::Tensor> simple_test_rpn(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas);
  // The same with explicit settings (training: train_cfg.rpn_proposal). Uses detached outputs.
  std::vector<torch::Tensor> proposals(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                       const DenseTestConfig& cfg);

 protected:
  // Losses are logged as loss_rpn_cls / loss_rpn_bbox; positives are labelled 0 (no gt labels).
  std::string loss_name(const std::string& term) const override { return "loss_rpn_" + term; }
  std::string trace_name() const override { return "rpn_head"; }
  bool uses_gt_labels() const override { return false; }

  Detections get_bboxes_single(const std::vector<torch::Tensor>& cls_scores, const std::vector<torch::Tensor>& bbox_preds,
                               const std::vector<torch::Tensor>& score_factors, const std::vector<torch::Tensor>& priors, const ImageMeta& meta,
                               const DenseTestConfig& cfg, bool rescale) override;

 private:
  torch::nn::Conv2d rpn_conv_{nullptr};         // num_convs == 1: a plain conv
  torch::nn::Sequential rpn_convs_{nullptr};     // num_convs > 1: ConvModules
  torch::nn::Conv2d rpn_cls_{nullptr};
  torch::nn::Conv2d rpn_reg_{nullptr};
  PreparedState prepared_;
  PreparedConv prepared_conv_, prepared_cls_, prepared_reg_;  // prepared_conv_ only for num_convs == 1
};

}  // namespace cppdet::models
