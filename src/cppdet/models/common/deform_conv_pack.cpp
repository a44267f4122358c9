#include "cppdet/models/common/deform_conv_pack.h"

#include <torch/nn/init.h>

#include <cmath>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/deform_conv.h"

namespace cppdet::models {

DcnConfig DcnConfig::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  DcnConfig d;
  const std::string type = r.get_string("type");
  if (type != "DCN" && type != "DCNv2")
    throw ConfigError(r.path_of("type") + ": unsupported deformable conv '" + type + "'; known: DCN, DCNv2");
  d.modulated = type == "DCNv2";
  const char* groups_key = r.has("deformable_groups") && !r.has("deform_groups") ? "deformable_groups" : "deform_groups";
  d.deform_groups = r.get_int(groups_key, 1);
  if (d.deform_groups < 1) throw ConfigError(r.path_of(groups_key) + ": must be >= 1");
  d.fallback_on_stride = r.get_bool("fallback_on_stride", false);
  r.finish();
  return d;
}

DeformConvPackImpl::DeformConvPackImpl(const DeformConvPackOptions& o) : options_(o) {
  if (o.in_channels % o.groups != 0 || o.out_channels % o.groups != 0)
    throw ConfigError("deformable conv: " + std::to_string(o.in_channels) + " -> " + std::to_string(o.out_channels) +
                      " channels are not divisible by groups=" + std::to_string(o.groups));
  if (o.in_channels % o.deform_groups != 0)
    throw ConfigError("deformable conv: " + std::to_string(o.in_channels) +
                      " input channels are not divisible by deform_groups=" + std::to_string(o.deform_groups));
  if (o.bias && !o.modulated) throw ConfigError("deformable conv: DCN (v1) has no bias");
  const int64_t k = o.kernel_size;
  weight = register_parameter("weight", torch::empty({o.out_channels, o.in_channels / o.groups, k, k}));
  if (o.bias) bias = register_parameter("bias", torch::zeros({o.out_channels}));
  const int64_t offset_channels = o.deform_groups * (o.modulated ? 3 : 2) * k * k;
  conv_offset = register_module("conv_offset", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, offset_channels, k)
                                                                     .stride(o.stride)
                                                                     .padding(o.padding)
                                                                     .dilation(o.dilation)
                                                                     .bias(true)));
  torch::NoGradGuard no_grad;
  if (o.modulated) {
    init_own_weights();
  } else {
    // DeformConv2d.reset_parameters; DeformConv2dPack.init_offset.
    torch::nn::init::kaiming_uniform_(weight, 0, torch::kFanIn, torch::kReLU);
    conv_offset->weight.zero_();
    conv_offset->bias.zero_();
  }
}

void DeformConvPackImpl::init_own_weights() {
  if (!options_.modulated) return;
  torch::NoGradGuard no_grad;
  const double stdv = 1.0 / std::sqrt(static_cast<double>(options_.in_channels * options_.kernel_size * options_.kernel_size));
  weight.uniform_(-stdv, stdv);
  if (bias.defined()) bias.zero_();
  conv_offset->weight.zero_();
  conv_offset->bias.zero_();
}

torch::Tensor DeformConvPackImpl::forward(const torch::Tensor& x) {
  ops::DeformConvParams p;
  p.stride_h = p.stride_w = options_.stride;
  p.pad_h = p.pad_w = options_.padding;
  p.dilation_h = p.dilation_w = options_.dilation;
  p.groups = options_.groups;
  p.deform_groups = options_.deform_groups;
  const torch::Tensor out = conv_offset->forward(x);
  if (!options_.modulated) return ops::deform_conv2d(x, out, weight, p);
  const std::vector<torch::Tensor> parts = out.chunk(3, 1);  // o1, o2, mask logits
  const torch::Tensor offset = torch::cat({parts[0], parts[1]}, 1);
  return ops::modulated_deform_conv2d(x, offset, torch::sigmoid(parts[2]), weight, bias, p);
}

}  // namespace cppdet::models
