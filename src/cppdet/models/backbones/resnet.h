#pragma once
// mmdet 2.x ResNet (depth 18/34/50/101/152). Children and state_dict keys as mmdet:
// conv1, bn1, layer{1..4}.{i}.conv{1,2,3} / bn{1,2,3} / downsample.{0,1}. style 'pytorch' puts
// a Bottleneck's stride on conv2 (3x3), 'caffe' on conv1 (1x1); BasicBlock ignores style.
// Bottleneck options as mmdet: `dcn` + `stage_with_dcn` make conv2 an mmcv DCN / DCNv2
// (models/common/deform_conv_pack.h, same key "conv2"); `plugins` insert plugin layers
// (models/plugins/) after conv1 / conv2 / conv3, registered after "downsample" under their
// abbreviation + postfix ("layer2.0.context_block"); `with_cp` recomputes each block in backward
// (models/common/checkpoint.h) instead of keeping its activations.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/backbones/backbone.h"
#include "cppdet/models/common/deform_conv_pack.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/precision/inference_precision.h"

namespace cppdet::models {

// One entry of ResNet's `plugins`: dict(cfg=dict(type=..., [postfix=...], ...),
// stages=(bool per stage) or None (every stage), position='after_conv1'|'after_conv2'|'after_conv3').
struct ResNetPluginConfig {
  config::Value cfg;      // built by models::plugin_registry() with the block's channels there
  std::string cfg_path;   // key path of cfg, for messages
  std::vector<bool> stages;  // empty: every stage
  std::string position;

  static ResNetPluginConfig from_config(const config::Value& cfg, const std::string& path, int64_t num_stages);
};

struct ResNetOptions {
  int64_t depth = 50;
  int64_t in_channels = 3;
  std::optional<int64_t> stem_channels;  // default: base_channels
  int64_t base_channels = 64;
  int64_t num_stages = 4;
  std::vector<int64_t> strides{1, 2, 2, 2};
  std::vector<int64_t> dilations{1, 1, 1, 1};
  std::vector<int64_t> out_indices{0, 1, 2, 3};
  std::string style = "pytorch";
  int64_t frozen_stages = -1;  // stem + layers 1..frozen_stages get no gradient, BN in eval
  NormConfig norm_cfg;
  bool norm_eval = true;       // keep every BN in eval mode during training
  bool zero_init_residual = true;
  std::optional<DcnConfig> dcn;  // deformable conv2 in the Bottlenecks of the stages below
  std::vector<bool> stage_with_dcn{false, false, false, false};
  std::vector<ResNetPluginConfig> plugins;
  bool with_cp = false;          // gradient checkpointing of every block
  config::Value init_cfg;      // kept for training (pretrained weights); unused at inference

  static ResNetOptions from_config(const config::Value& cfg, const std::string& path);
};

class ResNet : public Backbone, public FusesConvBn, public PrecisionAware {
 public:
  explicit ResNet(ResNetOptions options);
  std::vector<torch::Tensor> forward(const torch::Tensor& x) override;
  std::vector<int64_t> out_channels() const override;
  // Applies frozen_stages and norm_eval on top of Module::train; train(true) also drops the
  // prepared inference path.
  void train(bool on = true) override;
  // Prepared inference (models/precision/inference_precision.h): each conv with its BatchNorm
  // folded in, prepared once in the precision (fp32 and bf16: weights reordered into oneDNN's
  // blocked layout, activations kept in MKL-DNN layout from the stem to each returned stage,
  // which comes back dense: float32 for fp32, bfloat16 for bf16; int8: quint8 activations, the
  // returned stages too). Taken only in eval mode, for float CPU input, without autograd;
  // otherwise forward runs the modules. Not available (false) in training mode, for non-CPU or
  // non-float weights, for fp32 with GN or without MKL-DNN; bf16/int8 with GN: UserError.
  bool set_inference_precision(const InferencePrecision& precision, const std::string& path) override;
  // The stem's conv1/bn1 (the blocks fold their own pairs).
  int64_t fuse_conv_bn() override;
  const ResNetOptions& options() const { return options_; }

 private:
  ResNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr};
  NormLayer norm1_;
  std::vector<torch::nn::Sequential> layers_;
  std::vector<int64_t> stage_channels_;
  struct PreparedPlan;
  std::shared_ptr<const PreparedPlan> plan_;
  PreparedState prepared_;

  bool is_out_index(size_t stage) const;
  std::vector<torch::Tensor> forward_prepared(const torch::Tensor& x) const;
};

}  // namespace cppdet::models
