#include "cppdet/models/plugins/context_block.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/normalization.h>

#include <algorithm>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {
namespace {

torch::nn::Sequential context_transform(int64_t channels, int64_t planes) {
  torch::nn::Sequential seq;
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, planes, 1)));
  seq->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({planes, 1, 1})));
  seq->push_back(torch::nn::ReLU());
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(planes, channels, 1)));
  return seq;
}

bool lists_fusion(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

ContextBlockOptions ContextBlockOptions::from_config(const config::Value& cfg, const std::string& path,
                                                     int64_t in_channels) {
  config::ConfigReader r(cfg, path);
  ContextBlockOptions o;
  o.in_channels = in_channels;
  o.ratio = r.get_number("ratio");
  o.pooling_type = r.get_string("pooling_type", "att");
  if (o.pooling_type != "att" && o.pooling_type != "avg")
    throw ConfigError(r.path_of("pooling_type") + ": expected 'att' or 'avg', got '" + o.pooling_type + "'");
  if (r.has("fusion_types")) o.fusion_types = r.get_strings("fusion_types");
  if (o.fusion_types.empty()) throw ConfigError(r.path_of("fusion_types") + ": at least one fusion type is required");
  for (const std::string& f : o.fusion_types)
    if (f != "channel_add" && f != "channel_mul")
      throw ConfigError(r.path_of("fusion_types") + ": unknown fusion type '" + f + "'; known: channel_add, channel_mul");
  r.finish();
  return o;
}

ContextBlock::ContextBlock(const ContextBlockOptions& options) : options_(options) {
  const int64_t channels = options_.in_channels;
  const int64_t planes = static_cast<int64_t>(static_cast<double>(channels) * options_.ratio);  // Python int()
  if (planes < 1) throw ConfigError("ContextBlock: int(" + std::to_string(channels) + " * ratio) must be >= 1");
  if (options_.pooling_type == "att")
    conv_mask_ = register_module("conv_mask", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 1, 1)));
  if (lists_fusion(options_.fusion_types, "channel_add"))
    channel_add_conv_ = register_module("channel_add_conv", context_transform(channels, planes));
  if (lists_fusion(options_.fusion_types, "channel_mul"))
    channel_mul_conv_ = register_module("channel_mul_conv", context_transform(channels, planes));
  // reset_parameters: Kaiming (fan_in) conv_mask, zero last conv of each transform.
  torch::NoGradGuard no_grad;
  if (conv_mask_) {
    torch::nn::init::kaiming_normal_(conv_mask_->weight, 0, torch::kFanIn, torch::kReLU);
    conv_mask_->bias.zero_();
  }
  for (const torch::nn::Sequential& seq : {channel_add_conv_, channel_mul_conv_}) {
    if (!seq) continue;
    auto* last = seq->ptr(3)->as<torch::nn::Conv2d>();
    last->weight.zero_();
    last->bias.zero_();
  }
}

torch::Tensor ContextBlock::spatial_pool(const torch::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  if (!conv_mask_) return torch::nn::functional::adaptive_avg_pool2d(x, torch::nn::functional::AdaptiveAvgPool2dFuncOptions(1));
  const torch::Tensor input_x = x.reshape({n, 1, c, hw});                                  // [N, 1, C, HW]
  const torch::Tensor mask = torch::softmax(conv_mask_->forward(x).reshape({n, 1, hw}), 2);  // [N, 1, HW]
  return torch::matmul(input_x, mask.unsqueeze(-1)).view({n, c, 1, 1});                    // [N, C, 1, 1]
}

torch::Tensor ContextBlock::forward(const torch::Tensor& x) {
  const torch::Tensor context = spatial_pool(x);
  torch::Tensor out = x;
  if (channel_mul_conv_) out = out * torch::sigmoid(channel_mul_conv_->forward(context));
  if (channel_add_conv_) out = out + channel_add_conv_->forward(context);
  return out;
}

}  // namespace cppdet::models
