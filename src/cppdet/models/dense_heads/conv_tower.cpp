#include "cppdet/models/dense_heads/conv_tower.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

std::optional<NormConfig> read_tower_norm_cfg(config::ConfigReader& r) {
  std::optional<NormConfig> norm = NormConfig{"GN", true, 1e-5, 0.1, 32};
  if (r.has("norm_cfg")) norm = NormConfig::from_config(r.get_optional("norm_cfg"), r.path_of("norm_cfg"));
  if (const config::Value* v = r.get_optional("conv_cfg")) {
    config::ConfigReader c(*v, r.path_of("conv_cfg"));
    if (c.get_string("type") != "Conv2d" && c.get_string("type") != "Conv")
      throw ConfigError(c.path_of("type") + ": only Conv2d is supported");
    c.finish();
  }
  return norm;
}

torch::nn::ModuleList make_conv_tower(int64_t in_channels, int64_t feat_channels, int64_t num_convs,
                                      const std::optional<NormConfig>& norm, std::optional<bool> bias) {
  torch::nn::ModuleList tower;
  for (int64_t i = 0; i < num_convs; ++i) {
    const ConvModuleOptions o{i == 0 ? in_channels : feat_channels, feat_channels, 3, 1, 1, 1, norm, true};
    tower->push_back(ConvModule(o, bias.value_or(!norm.has_value())));
  }
  return tower;
}

torch::Tensor run_conv_tower(const torch::nn::ModuleList& tower, torch::Tensor x) {
  for (const auto& m : *tower) x = m->as<ConvModuleImpl>()->forward(x);
  return x;
}

}  // namespace cppdet::models
