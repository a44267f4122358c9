#include "cppdet/models/common/fuse_conv_bn.h"

#include <torch/types.h>

#include <string>

namespace cppdet::models {
namespace {

// A module's registered parameter slot (protected in LibTorch, read through a derived class).
// Conv2dImpl registers "bias" even when it has none, as an undefined tensor.
struct ParameterSlots : torch::nn::Module {
  static torch::Tensor& slot(torch::nn::Module& module, const std::string& name) {
    return (module.*(&ParameterSlots::parameters_))[name];
  }
};

}  // namespace

int64_t fuse_conv_bn(torch::nn::Module& model) {
  int64_t fused = 0;
  for (const auto& module : model.modules(/*include_self=*/true))
    if (auto* owner = dynamic_cast<FusesConvBn*>(module.get())) fused += owner->fuse_conv_bn();
  return fused;
}

std::pair<torch::Tensor, torch::Tensor> folded_conv_bn(const torch::nn::Conv2dImpl& conv,
                                                       const torch::nn::BatchNorm2dImpl* bn) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& w = conv.weight;
  torch::Tensor bias = conv.bias.defined() ? conv.bias.clone() : torch::zeros({w.size(0)}, w.options());
  if (!bn) return {w.clone(), bias};
  torch::Tensor scale = torch::rsqrt(bn->running_var + bn->options.eps());
  if (bn->weight.defined()) scale = scale * bn->weight;
  torch::Tensor shift = (bias - bn->running_mean) * scale;
  if (bn->bias.defined()) shift = shift + bn->bias;
  return {w * scale.reshape({-1, 1, 1, 1}), shift};
}

void fold_batch_norm_into(torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn) {
  auto [weight, bias] = folded_conv_bn(conv, &bn);
  torch::NoGradGuard no_grad;
  conv.weight.copy_(weight);
  if (conv.bias.defined()) {
    conv.bias.copy_(bias);
  } else {
    bias.set_requires_grad(conv.weight.requires_grad());
    conv.bias = bias;
    ParameterSlots::slot(conv, "bias") = bias;
    conv.options.bias(true);
  }
}

}  // namespace cppdet::models
