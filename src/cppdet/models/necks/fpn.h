#pragma once
// mmdet 2.x FPN: 1x1 lateral ConvModules ("lateral_convs.i.conv"), top-down nearest
// upsampling by size + add, 3x3 output ConvModules ("fpn_convs.i.conv"); extra levels by
// max_pool2d(kernel 1, stride 2) or, with add_extra_convs, stride-2 3x3 convs appended to
// fpn_convs on the input / lateral / output.
#include <torch/nn/modules/container/modulelist.h>

#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/necks/neck.h"

namespace cppdet::models {

struct FPNOptions {
  std::vector<int64_t> in_channels;
  int64_t out_channels = 256;
  int64_t num_outs = 5;
  int64_t start_level = 0;
  int64_t end_level = -1;
  std::string add_extra_convs;  // "" (False) | "on_input" (also True) | "on_lateral" | "on_output"
  bool relu_before_extra_convs = false;
  bool no_norm_on_lateral = false;
  std::optional<NormConfig> norm_cfg;
  bool relu = false;  // act_cfg=dict(type='ReLU') instead of None
  std::string upsample_mode = "nearest";
  std::optional<double> upsample_scale_factor;  // upsample_cfg.scale_factor instead of size

  static FPNOptions from_config(const config::Value& cfg, const std::string& path);
};

class FPN : public Neck, public PrecisionAware {
 public:
  explicit FPN(FPNOptions options);
  // On the prepared path (bf16 / int8, models/precision/) the inputs may be in any activation
  // form and the outputs are in the precision's form.
  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& inputs) override;
  const FPNOptions& options() const { return options_; }
  // The convs are ConvModules (prepared on their own); the FPN prepares its top-down sums
  // (int8: quantized adds at "<path>.top_down.<i>", the sum for level i).
  bool set_inference_precision(const InferencePrecision& precision, const std::string& path) override;

 protected:
  // forward() = output_levels(inputs, top_down(lateral_levels(inputs))), in steps that a
  // subclass can change (e.g. the AugFPN plugin adds to the top lateral before top_down).
  // The 1x1 lateral convs on inputs[start_level .. backbone_end_level_ - 1].
  std::vector<torch::Tensor> lateral_levels(const std::vector<torch::Tensor>& inputs);
  // The top-down pathway: laterals[i-1] += upsample(laterals[i]).
  std::vector<torch::Tensor> top_down(std::vector<torch::Tensor> laterals) const;
  // The 3x3 output convs on the merged laterals, then the extra levels up to num_outs.
  std::vector<torch::Tensor> output_levels(const std::vector<torch::Tensor>& inputs,
                                           const std::vector<torch::Tensor>& laterals);
  torch::Tensor upsample_to(const torch::Tensor& x, const torch::Tensor& like) const;

  FPNOptions options_;
  int64_t backbone_end_level_ = 0;
  PreparedState prepared_;
  std::vector<ActivationPoint> top_down_sums_;  // prepared: one per level below the top
  torch::nn::ModuleList lateral_convs{nullptr};
  torch::nn::ModuleList fpn_convs{nullptr};
};

}  // namespace cppdet::models
