#pragma once
// The stacked 3x3 ConvModule towers (cls_convs / reg_convs) of FCOS-, ATSS- and GFL-like heads:
// num_convs ConvModules (conv -> norm -> ReLU), the first from in_channels, the rest from
// feat_channels, registered as "<i>.conv" / "<i>.gn" in a ModuleList.
#include <torch/nn/modules/container/modulelist.h>

#include <optional>

#include "cppdet/models/common/layers.h"

namespace cppdet::config {
class ConfigReader;
}

namespace cppdet::models {

// The towers' keys of a head config: `norm_cfg` (absent: GN with 32 groups, as those heads'
// defaults; None: no norm) and `conv_cfg` (absent, None or Conv2d; anything else is refused,
// naming the key).
std::optional<NormConfig> read_tower_norm_cfg(config::ConfigReader& r);

// `bias`: the conv_bias setting (nullopt = 'auto').
torch::nn::ModuleList make_conv_tower(int64_t in_channels, int64_t feat_channels, int64_t num_convs,
                                      const std::optional<NormConfig>& norm, std::optional<bool> bias = std::nullopt);

// x [N, C, H, W] through every ConvModule of `tower`.
torch::Tensor run_conv_tower(const torch::nn::ModuleList& tower, torch::Tensor x);

}  // namespace cppdet::models
