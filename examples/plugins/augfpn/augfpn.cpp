// The AugFPN plugin (augfpn.h): the neck, and its registration as "AugFPN".
#include "augfpn.h"

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/registries.h"
#include "cppdet/registry/plugin.h"

namespace augfpn {

AugFPNOptions AugFPNOptions::from_config(const cppdet::config::Value& cfg, const std::string& path) {
  AugFPNOptions o;
  cppdet::config::Value rest = cfg;  // a dict: the registry checked
  if (rest.as_dict().contains("pool_ratios")) {
    cppdet::config::ConfigReader r(cfg, path);
    o.pool_ratios = r.get_numbers("pool_ratios");
    if (o.pool_ratios.empty()) throw cppdet::ConfigError(r.path_of("pool_ratios") + ": expected at least one ratio");
    for (size_t k = 0; k < o.pool_ratios.size(); ++k)
      if (!(o.pool_ratios[k] > 0 && o.pool_ratios[k] <= 1))
        throw cppdet::ConfigError(r.path_of("pool_ratios") + "." + std::to_string(k) + ": expected a ratio in (0, 1], got " +
                                  std::to_string(o.pool_ratios[k]));
    rest.as_dict().erase("pool_ratios");
  }
  o.fpn = cppdet::models::FPNOptions::from_config(rest, path);
  return o;
}

AugFPN::AugFPN(const AugFPNOptions& options) : FPN(options.fpn), pool_ratios_(options.pool_ratios) {
  namespace nn = torch::nn;
  const int64_t top_channels = options_.in_channels[backbone_end_level_ - 1];
  const int64_t out = options_.out_channels;
  const int64_t branches = static_cast<int64_t>(pool_ratios_.size());
  rfa_pool_convs_ = register_module("rfa_pool_convs", nn::ModuleList());
  for (int64_t k = 0; k < branches; ++k) rfa_pool_convs_->push_back(nn::Conv2d(nn::Conv2dOptions(top_channels, out, 1)));
  rfa_fusion_ = register_module("rfa_fusion", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(branches * out, out, 1)), nn::ReLU(),
                                                             nn::Conv2d(nn::Conv2dOptions(out, branches, 3).padding(1))));
}

torch::Tensor AugFPN::residual_feature_augmentation(const torch::Tensor& top) {
  namespace F = torch::nn::functional;
  const int64_t h = top.size(2), w = top.size(3);
  std::vector<torch::Tensor> branches;  // B_k: [N, out, h, w]
  for (size_t k = 0; k < pool_ratios_.size(); ++k) {
    const int64_t ph = std::max<int64_t>(1, static_cast<int64_t>(std::floor(pool_ratios_[k] * static_cast<double>(h))));
    const int64_t pw = std::max<int64_t>(1, static_cast<int64_t>(std::floor(pool_ratios_[k] * static_cast<double>(w))));
    torch::Tensor pooled = torch::adaptive_avg_pool2d(top, {ph, pw});  // [N, C_top, ph, pw]
    torch::Tensor reduced = rfa_pool_convs_[k]->as<torch::nn::Conv2dImpl>()->forward(pooled);
    branches.push_back(F::interpolate(reduced, F::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{h, w})
                                                   .mode(torch::kBilinear)
                                                   .align_corners(false)));
  }
  torch::Tensor weights = torch::sigmoid(rfa_fusion_->forward(torch::cat(branches, 1)));  // [N, K, h, w]
  torch::Tensor fused = weights.narrow(1, 0, 1) * branches[0];
  for (size_t k = 1; k < branches.size(); ++k) fused = fused + weights.narrow(1, static_cast<int64_t>(k), 1) * branches[k];
  return fused;  // [N, out, h, w]
}

std::vector<torch::Tensor> AugFPN::forward(const std::vector<torch::Tensor>& inputs) {
  std::vector<torch::Tensor> laterals = lateral_levels(inputs);
  laterals.back() = laterals.back() + residual_feature_augmentation(inputs[backbone_end_level_ - 1]);
  return output_levels(inputs, top_down(std::move(laterals)));
}

}  // namespace augfpn

namespace {

void register_augfpn() {
  cppdet::models::neck_registry().add(
      "AugFPN", [](const cppdet::BuildContext& ctx) -> std::shared_ptr<cppdet::models::Neck> {
        return std::make_shared<augfpn::AugFPN>(augfpn::AugFPNOptions::from_config(ctx.cfg, ctx.path));
      });
}

}  // namespace

CPPDET_PLUGIN(register_augfpn)
