#include "cppdet/models/dense_heads/conv_tower.h"

namespace cppdet::models {

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
