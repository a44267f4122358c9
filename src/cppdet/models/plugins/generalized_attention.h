#pragma once
// mmcv's GeneralizedAttention ("An Empirical Study of Spatial Attention Mechanisms in Deep
// Networks"), plugin name "gen_attention_block": multi-head attention of every query position
// (x, optionally subsampled by q_stride) over key/value positions (x subsampled by kv_stride)
// whose energy sums the terms chosen by attention_type's four flags:
//   '1000' query and key content    (W_q x_q)^T (W_k x_k)
//   '0100' query content, position  (W_q x_q)^T R(q - k)
//   '0010' key content only         u^T (W_k x_k)          (u = appr_bias)
//   '0001' position only            v^T R(q - k)           (v = geom_bias)
// R being the sinusoidal embedding of the x and y offsets through appr_geom_fc_x / _y (each
// scaled by 1/sqrt(2)); out = x + gamma * proj_conv(attention-weighted W_v x_kv), upsampled
// bilinearly when q_stride > 1. spatial_range >= 0 masks keys farther than that range
// (local_constraint_map, for 256 or 512 channels as in mmcv).
// state_dict (as mmcv registers them): appr_bias, geom_bias, gamma, local_constraint_map,
// query_conv, key_conv, value_conv, appr_geom_fc_x, appr_geom_fc_y, proj_conv.
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <array>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/init/init_weights.h"
#include "cppdet/models/plugins/plugin_layer.h"

namespace cppdet::models {

struct GeneralizedAttentionOptions {
  int64_t in_channels = 0;
  int64_t spatial_range = -1;
  int64_t num_heads = 9;
  int64_t position_embedding_dim = -1;  // -1: in_channels
  double position_magnitude = 1;
  int64_t kv_stride = 2;
  int64_t q_stride = 1;
  std::string attention_type = "1111";

  static GeneralizedAttentionOptions from_config(const config::Value& cfg, const std::string& path,
                                                 int64_t in_channels);
};

class GeneralizedAttention : public PluginLayer, public InitsOwnWeights {
 public:
  explicit GeneralizedAttention(const GeneralizedAttentionOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;
  std::string abbr() const override { return "gen_attention_block"; }
  // mmcv's init_weights: Kaiming uniform (fan_in, leaky_relu, a=1) convs and linears, bias 0.
  void init_own_weights() override;

 private:
  GeneralizedAttentionOptions options_;
  std::array<bool, 4> type_{};
  int64_t qk_dim_ = 0, v_dim_ = 0, embed_dim_ = 0;
  torch::Tensor appr_bias_, geom_bias_, gamma_, local_constraint_map_;
  torch::nn::Conv2d query_conv_{nullptr}, key_conv_{nullptr}, value_conv_{nullptr}, proj_conv_{nullptr};
  torch::nn::Linear appr_geom_fc_x_{nullptr}, appr_geom_fc_y_{nullptr};

  // Sinusoidal embeddings of the x and y offsets between query and key positions:
  // [w, w_kv, 2 * ceil(embed_dim / 4)] and [h, h_kv, ...].
  std::pair<torch::Tensor, torch::Tensor> position_embedding(int64_t h, int64_t w, int64_t h_kv, int64_t w_kv,
                                                             const torch::TensorOptions& opts) const;
};

}  // namespace cppdet::models
