#pragma once
// mmcv's ContextBlock (GCNet, "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and
// Beyond"), plugin name "context_block". Global context pooling, then a bottleneck transform
// fused into every position:
//   context = sum_j softmax_j(conv_mask(x)) * x_j    (pooling_type 'att'; 'avg': mean of x)
//   out = x * sigmoid(channel_mul_conv(context))     ('channel_mul' in fusion_types)
//   out = out + channel_add_conv(context)            ('channel_add')
// each transform being Conv1x1(C -> planes), LayerNorm([planes, 1, 1]), ReLU, Conv1x1(planes -> C)
// with planes = int(C * ratio). state_dict: conv_mask.{weight,bias},
// channel_add_conv.{0,1,3}.{weight,bias}, channel_mul_conv.{0,1,3}.{weight,bias}.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/plugins/plugin_layer.h"

namespace cppdet::models {

struct ContextBlockOptions {
  int64_t in_channels = 0;
  double ratio = 0;
  std::string pooling_type = "att";                        // 'att' | 'avg'
  std::vector<std::string> fusion_types{"channel_add"};  // of 'channel_add', 'channel_mul'

  // dict(type='ContextBlock', ratio, pooling_type='att', fusion_types=('channel_add',)).
  static ContextBlockOptions from_config(const config::Value& cfg, const std::string& path, int64_t in_channels);
};

class ContextBlock : public PluginLayer {
 public:
  explicit ContextBlock(const ContextBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string abbr() const override { return "context_block"; }

 private:
  ContextBlockOptions options_;
  torch::nn::Conv2d conv_mask_{nullptr};
  torch::nn::Sequential channel_add_conv_{nullptr}, channel_mul_conv_{nullptr};

  // x [N, C, H, W] -> [N, C, 1, 1].
  torch::Tensor spatial_pool(const torch::Tensor& x);
};

}  // namespace cppdet::models
