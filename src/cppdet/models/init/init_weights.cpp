#include "cppdet/models/init/init_weights.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cmath>
#include <set>
#include <string>

namespace cppdet::models {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void zero_bias(torch::Tensor& bias) {
  if (bias.defined()) torch::nn::init::zeros_(bias);
}

void kaiming_fan_out(torch::Tensor& weight, torch::Tensor& bias) {
  torch::nn::init::kaiming_normal_(weight, 0, torch::kFanOut, torch::kReLU);
  zero_bias(bias);
}

bool zero_init_residual(const config::Value& model_cfg) {
  if (!model_cfg.is_dict()) return true;
  const config::Dict& m = model_cfg.as_dict();
  if (!m.contains("backbone") || !m.at("backbone").is_dict()) return true;
  const config::Dict& b = m.at("backbone").as_dict();
  return !b.contains("zero_init_residual") || b.at("zero_init_residual").as_bool();
}

}  // namespace

void init_weights(torch::nn::Module& model, const config::Value& model_cfg) {
  torch::NoGradGuard no_grad;
  const auto modules = model.named_modules("", /*include_self=*/false);
  std::set<std::string> names;
  for (const auto& item : modules) names.insert(item.key());

  for (const auto& item : modules) {
    const std::string& name = item.key();
    torch::nn::Module& m = *item.value();
    if (auto* conv = m.as<torch::nn::Conv2d>()) {
      if (starts_with(name, "backbone.") || starts_with(name, "roi_head.mask_head.")) {
        kaiming_fan_out(conv->weight, conv->bias);
      } else if (starts_with(name, "neck.")) {
        torch::nn::init::xavier_uniform_(conv->weight);
        zero_bias(conv->bias);
      } else if (starts_with(name, "rpn_head.") || starts_with(name, "bbox_head.")) {
        torch::nn::init::normal_(conv->weight, 0, 0.01);
        zero_bias(conv->bias);
        const bool cls_logits = ends_with(name, "retina_cls") || ends_with(name, "conv_cls") ||
                                ends_with(name, "atss_cls") || ends_with(name, "gfl_cls");
        if (cls_logits && conv->bias.defined()) torch::nn::init::constant_(conv->bias, -std::log((1 - 0.01) / 0.01));
      }
    } else if (auto* deconv = m.as<torch::nn::ConvTranspose2d>()) {
      if (starts_with(name, "roi_head.mask_head.")) kaiming_fan_out(deconv->weight, deconv->bias);
    } else if (auto* fc = m.as<torch::nn::Linear>()) {
      if (!starts_with(name, "roi_head.bbox_head.")) continue;
      if (ends_with(name, "fc_cls"))
        torch::nn::init::normal_(fc->weight, 0, 0.01);
      else if (ends_with(name, "fc_reg"))
        torch::nn::init::normal_(fc->weight, 0, 0.001);
      else
        torch::nn::init::xavier_uniform_(fc->weight);
      zero_bias(fc->bias);
    } else if (auto* bn = m.as<torch::nn::BatchNorm2d>()) {
      if (bn->weight.defined()) torch::nn::init::ones_(bn->weight);
      zero_bias(bn->bias);
    } else if (auto* gn = m.as<torch::nn::GroupNorm>()) {
      if (gn->weight.defined()) torch::nn::init::ones_(gn->weight);
      zero_bias(gn->bias);
    }
  }

  for (const auto& item : modules)
    if (auto* own = dynamic_cast<InitsOwnWeights*>(item.value().get())) own->init_own_weights();

  // The last norm of each residual block starts at 0 (Bottleneck: bn3, BasicBlock: bn2).
  if (!zero_init_residual(model_cfg)) return;
  for (const auto& item : modules) {
    const std::string& name = item.key();
    if (!starts_with(name, "backbone.layer")) continue;
    auto* bn = item.value()->as<torch::nn::BatchNorm2d>();
    if (!bn || !bn->weight.defined()) continue;
    const std::string block = name.substr(0, name.rfind('.') + 1);
    if (ends_with(name, ".bn3") || (ends_with(name, ".bn2") && !names.count(block + "bn3")))
      torch::nn::init::zeros_(bn->weight);
  }
}

}  // namespace cppdet::models
