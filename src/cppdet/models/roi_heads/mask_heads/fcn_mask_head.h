#pragma once
// mmdet 2.x FCNMaskHead: num_convs ConvModules ("convs.i.conv"), an upsample ("upsample":
// ConvTranspose2d for 'deconv', parameter-free for 'nearest' / 'bilinear'), ReLU after a
// deconv, and conv_logits (1x1, num_classes or 1 channel when class_agnostic).
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include <optional>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/precision/inference_precision.h"
#include "cppdet/models/precision/prepared_conv.h"
#include "cppdet/models/roi_heads/mask_heads/mask_head.h"

namespace cppdet::models {

struct FCNMaskHeadOptions {
  int64_t num_convs = 4;
  int64_t roi_feat_size = 14;
  int64_t in_channels = 256;
  int64_t conv_kernel_size = 3;
  int64_t conv_out_channels = 256;
  int64_t num_classes = 80;
  bool class_agnostic = false;
  std::string upsample_method = "deconv";  // "deconv" | "nearest" | "bilinear" | "" (none)
  int64_t scale_factor = 2;
  std::optional<NormConfig> norm_cfg;
  config::Value loss_mask;  // None: CrossEntropyLoss(use_mask=True)
  std::string loss_mask_path;

  static FCNMaskHeadOptions from_config(const config::Value& cfg, const std::string& path);
};

class FCNMaskHead : public MaskHead, public PrecisionAware {
 public:
  explicit FCNMaskHead(FCNMaskHeadOptions options);
  // Mask logits, float32; on the prepared path roi_feats may be in any activation form.
  torch::Tensor forward(const torch::Tensor& roi_feats) override;
  torch::Tensor label_probs(const torch::Tensor& mask_pred, const torch::Tensor& labels) const override;
  torch::Tensor paste_masks(const torch::Tensor& probs, const torch::Tensor& bboxes, double mask_thr_binary,
                            std::array<int64_t, 2> ori_shape, const std::array<float, 4>& scale_factor,
                            bool rescale) const override;
  // bf16 / int8 / calibration: the deconv upsample (+ ReLU) prepared (int8: per-tensor weight
  // scale, all LibTorch's oneDNN transposed kernel takes); conv_logits returns float32 (in int8 it
  // runs in float32 on the dequantized features). The convs are ConvModules. fp32: plain layers.
  bool set_inference_precision(const InferencePrecision& precision, const std::string& path) override;
  int64_t num_classes() const override { return options_.num_classes; }
  // Targets by mask_target (task/mask_target.h), loss_mask on each RoI's gt-class channel
  // (channel 0 when class_agnostic); an empty batch of positives gives mask_pred.sum().
  LossTerms loss(const torch::Tensor& mask_pred, const std::vector<SamplingResult>& sampling_results,
                 const std::vector<torch::Tensor>& gt_masks, std::pair<int64_t, int64_t> mask_size) override;
  const FCNMaskHeadOptions& options() const { return options_; }

 private:
  FCNMaskHeadOptions options_;
  torch::nn::ModuleList convs_{nullptr};
  torch::nn::ConvTranspose2d upsample_{nullptr};
  torch::nn::Conv2d conv_logits_{nullptr};
  std::shared_ptr<Loss> loss_mask_;
  PreparedState prepared_;
  PreparedConv prepared_upsample_, prepared_logits_;
};

}  // namespace cppdet::models
