#pragma once
// mmcv's deformable convolutions that stand in for a plain conv (conv_cfg / ResNet `dcn`):
// `DCN` = DeformConv2dPack (v1) and `DCNv2` = ModulatedDeformConv2dPack (v2). A child
// `conv_offset` (nn.Conv2d with the layer's kernel, stride, padding and dilation, zero-initialised)
// predicts the offsets from the layer's own input: 2 * deform_groups * kh * kw channels for v1;
// for v2 3 * deform_groups * kh * kw, of which the first two thirds are the offsets and the last
// third, through a sigmoid, the mask (ops/deform_conv.h has the layouts).
// state_dict: weight [C_out, C_in / groups, kh, kw], bias (v2 with bias=True only),
// conv_offset.weight, conv_offset.bias.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/init/init_weights.h"

namespace cppdet::models {

// The `dcn=dict(type='DCN' | 'DCNv2', deform_groups=1, fallback_on_stride=False)` config of
// ResNet-style backbones (`deformable_groups` is mmcv's deprecated name of deform_groups).
struct DcnConfig {
  bool modulated = false;  // DCNv2
  int64_t deform_groups = 1;
  bool fallback_on_stride = false;

  static DcnConfig from_config(const config::Value& cfg, const std::string& path);
};

struct DeformConvPackOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  int64_t deform_groups = 1;
  bool modulated = false;
  bool bias = false;  // v2 only: mmcv's DeformConv2d has no bias
};

class DeformConvPackImpl : public torch::nn::Module, public InitsOwnWeights {
 public:
  explicit DeformConvPackImpl(const DeformConvPackOptions& options);
  // x [N, C_in, H, W] -> [N, C_out, H_out, W_out] (H_out, W_out as a conv with these settings).
  torch::Tensor forward(const torch::Tensor& x);
  // ModulatedDeformConv2dPack.init_weights, which mmcv's BaseModule runs after its parent's
  // init_cfg (weight U(-1/sqrt(n), 1/sqrt(n)) with n = C_in * kh * kw, bias 0, conv_offset 0).
  // v1 has none: its conv_offset keeps what the backbone's init gave every Conv2d.
  void init_own_weights() override;
  const DeformConvPackOptions& options() const { return options_; }

  torch::Tensor weight;
  torch::Tensor bias;  // undefined without bias
  torch::nn::Conv2d conv_offset{nullptr};

 private:
  DeformConvPackOptions options_;
};
TORCH_MODULE(DeformConvPack);

}  // namespace cppdet::models
