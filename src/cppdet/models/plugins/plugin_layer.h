#pragma once
// Interface of mmcv's plugin layers (its PLUGIN_LAYERS registry: ContextBlock,
// GeneralizedAttention, ...): shape-preserving modules that a residual block inserts after one of
// its convs (ResNet's `plugins`, positions after_conv1/2/3). Built by models::plugin_registry()
// from the plugin's `cfg` dict and the block's channel count at that position.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>

namespace cppdet::models {

class PluginLayer : public torch::nn::Module {
 public:
  // x [N, C, H, W] -> [N, C, H, W].
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // The child name mmcv's build_plugin_layer gives the layer before any postfix: the class's
  // `_abbr_` ("context_block", "gen_attention_block").
  virtual std::string abbr() const = 0;
};

}  // namespace cppdet::models
