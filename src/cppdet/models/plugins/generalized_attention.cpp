#include "cppdet/models/plugins/generalized_attention.h"

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {
namespace {

int64_t attention_floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// mmcv's local_constraint_map: 1 where key (ky, kx) is outside the spatial range of query (iy, ix).
torch::Tensor local_constraint_map(int64_t in_channels, int64_t spatial_range, int64_t kv_stride) {
  int64_t max_len = 0;
  if (in_channels == 256)
    max_len = 84;
  else if (in_channels == 512)
    max_len = 42;
  else
    throw ConfigError("GeneralizedAttention: spatial_range >= 0 needs 256 or 512 channels (mmcv's table), got " +
                      std::to_string(in_channels));
  const int64_t max_len_kv = static_cast<int64_t>((max_len - 1.0) / kv_stride + 1);
  torch::Tensor map = torch::ones({max_len, max_len, max_len_kv, max_len_kv}, torch::kUInt8);
  auto clamp_range = [&](int64_t i) {
    const int64_t begin = std::max<int64_t>(attention_floor_div(i - spatial_range, kv_stride), 0);
    const int64_t end = std::min<int64_t>(std::min(attention_floor_div(i + spatial_range + 1, kv_stride) + 1, max_len), max_len_kv);
    return std::make_pair(begin, std::max(begin, end));
  };
  using torch::indexing::Slice;
  for (int64_t iy = 0; iy < max_len; ++iy)
    for (int64_t ix = 0; ix < max_len; ++ix) {
      const auto [y0, y1] = clamp_range(iy);
      const auto [x0, x1] = clamp_range(ix);
      map.index_put_({iy, ix, Slice(y0, y1), Slice(x0, x1)}, 0);
    }
  return map;
}

}  // namespace

GeneralizedAttentionOptions GeneralizedAttentionOptions::from_config(const config::Value& cfg, const std::string& path,
                                                                     int64_t in_channels) {
  config::ConfigReader r(cfg, path);
  GeneralizedAttentionOptions o;
  o.in_channels = in_channels;
  o.spatial_range = r.get_int("spatial_range", o.spatial_range);
  o.num_heads = r.get_int("num_heads", o.num_heads);
  o.position_embedding_dim = r.get_int("position_embedding_dim", o.position_embedding_dim);
  o.position_magnitude = r.get_number("position_magnitude", o.position_magnitude);
  o.kv_stride = r.get_int("kv_stride", o.kv_stride);
  o.q_stride = r.get_int("q_stride", o.q_stride);
  o.attention_type = r.get_string("attention_type", o.attention_type);
  if (o.attention_type.size() != 4 || o.attention_type.find_first_not_of("01") != std::string::npos)
    throw ConfigError(r.path_of("attention_type") + ": expected four '0'/'1' flags, got '" + o.attention_type + "'");
  if (o.num_heads < 1 || in_channels / o.num_heads < 1)
    throw ConfigError(r.path_of("num_heads") + ": must be in [1, " + std::to_string(in_channels) + "]");
  if (o.kv_stride < 1 || o.q_stride < 1) throw ConfigError(path + ": kv_stride and q_stride must be >= 1");
  r.finish();
  return o;
}

GeneralizedAttention::GeneralizedAttention(const GeneralizedAttentionOptions& o) : options_(o) {
  for (size_t i = 0; i < 4; ++i) type_[i] = o.attention_type[i] == '1';
  const int64_t c = o.in_channels;
  embed_dim_ = o.position_embedding_dim > 0 ? o.position_embedding_dim : c;
  qk_dim_ = c / o.num_heads;
  v_dim_ = c / o.num_heads;
  const int64_t out_c = qk_dim_ * o.num_heads;
  const double stdv = 1.0 / std::sqrt(static_cast<double>(qk_dim_ * 2));
  auto conv1x1 = [](int64_t in, int64_t out, bool bias) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(bias));
  };
  // Parameters in mmcv's registration order, then the children in theirs.
  if (type_[2]) appr_bias_ = register_parameter("appr_bias", -2 * stdv * torch::rand({out_c}) + stdv);
  if (type_[3]) geom_bias_ = register_parameter("geom_bias", -2 * stdv * torch::rand({out_c}) + stdv);
  gamma_ = register_parameter("gamma", torch::zeros({1}));
  if (o.spatial_range >= 0)
    local_constraint_map_ = register_parameter("local_constraint_map",
                                               local_constraint_map(c, o.spatial_range, o.kv_stride), false);
  if (type_[0] || type_[1]) query_conv_ = register_module("query_conv", conv1x1(c, out_c, false));
  if (type_[0] || type_[2]) key_conv_ = register_module("key_conv", conv1x1(c, out_c, false));
  value_conv_ = register_module("value_conv", conv1x1(c, v_dim_ * o.num_heads, false));
  if (type_[1] || type_[3]) {
    appr_geom_fc_x_ = register_module("appr_geom_fc_x", torch::nn::Linear(torch::nn::LinearOptions(embed_dim_ / 2, out_c).bias(false)));
    appr_geom_fc_y_ = register_module("appr_geom_fc_y", torch::nn::Linear(torch::nn::LinearOptions(embed_dim_ / 2, out_c).bias(false)));
  }
  proj_conv_ = register_module("proj_conv", conv1x1(v_dim_ * o.num_heads, c, true));
  init_own_weights();
}

void GeneralizedAttention::init_own_weights() {
  torch::NoGradGuard no_grad;
  auto init = [](torch::Tensor& weight, torch::Tensor& bias) {
    torch::nn::init::kaiming_uniform_(weight, 1, torch::kFanIn, torch::kLeakyReLU);
    if (bias.defined()) bias.zero_();
  };
  for (torch::nn::Conv2d* conv : {&query_conv_, &key_conv_, &value_conv_, &proj_conv_})
    if (*conv) init((*conv)->weight, (*conv)->bias);
  for (torch::nn::Linear* fc : {&appr_geom_fc_x_, &appr_geom_fc_y_})
    if (*fc) init((*fc)->weight, (*fc)->bias);
}

std::pair<torch::Tensor, torch::Tensor> GeneralizedAttention::position_embedding(int64_t h, int64_t w, int64_t h_kv,
                                                                                 int64_t w_kv,
                                                                                 const torch::TensorOptions& opts) const {
  const double q_stride = static_cast<double>(options_.q_stride), kv_stride = static_cast<double>(options_.kv_stride);
  auto idxs = [&](int64_t n, double stride) { return torch::linspace(0, n - 1, n).to(opts).view({n, 1}) * stride; };
  // [h, h_kv, 1] and [w, w_kv, 1] offsets between query and key positions, in input pixels.
  const torch::Tensor h_diff = (idxs(h, q_stride).unsqueeze(1) - idxs(h_kv, kv_stride).unsqueeze(0)) * options_.position_magnitude;
  const torch::Tensor w_diff = (idxs(w, q_stride).unsqueeze(1) - idxs(w_kv, kv_stride).unsqueeze(0)) * options_.position_magnitude;
  const torch::Tensor feat_range = torch::arange(0, static_cast<double>(embed_dim_) / 4, opts);
  const torch::Tensor dim_mat = torch::pow(torch::full({1}, 1000.0, opts), feat_range * (4.0 / static_cast<double>(embed_dim_)))
                                    .view({1, 1, -1});
  auto embed = [&](const torch::Tensor& diff) {
    const torch::Tensor phase = diff / dim_mat;
    return torch::cat({phase.sin(), phase.cos()}, 2);
  };
  return {embed(w_diff), embed(h_diff)};
}

torch::Tensor GeneralizedAttention::forward(const torch::Tensor& x_input) {
  using torch::indexing::Slice;
  const int64_t heads = options_.num_heads, d = qk_dim_;
  const torch::Tensor x_q = options_.q_stride > 1 ? torch::avg_pool2d(x_input, 1, options_.q_stride) : x_input;
  const torch::Tensor x_kv = options_.kv_stride > 1 ? torch::avg_pool2d(x_input, 1, options_.kv_stride) : x_input;
  const int64_t n = x_q.size(0);
  int64_t h = x_q.size(2), w = x_q.size(3);
  const int64_t h_kv = x_kv.size(2), w_kv = x_kv.size(3);

  torch::Tensor proj_query, proj_key, position_feat_x, position_feat_y;
  if (type_[0] || type_[1]) proj_query = query_conv_->forward(x_q).view({n, heads, d, h * w}).permute({0, 1, 3, 2});
  if (type_[0] || type_[2]) proj_key = key_conv_->forward(x_kv).view({n, heads, d, h_kv * w_kv});
  if (type_[1] || type_[3]) {
    auto [embed_x, embed_y] = position_embedding(h, w, h_kv, w_kv, x_input.options());
    // [n, heads, w, w_kv, d] and [n, heads, h, h_kv, d]
    position_feat_x = appr_geom_fc_x_->forward(embed_x).view({1, w, w_kv, heads, d}).permute({0, 3, 1, 2, 4}).repeat({n, 1, 1, 1, 1});
    position_feat_y = appr_geom_fc_y_->forward(embed_y).view({1, h, h_kv, heads, d}).permute({0, 3, 1, 2, 4}).repeat({n, 1, 1, 1, 1});
    position_feat_x = position_feat_x / std::sqrt(2.0);
    position_feat_y = position_feat_y / std::sqrt(2.0);
  }

  torch::Tensor energy;  // [n, heads, h * w, h_kv * w_kv]
  if (type_[2] && !type_[0] && !type_[1] && !type_[3]) {
    // Key content only: the same energy for every query; one query row.
    const torch::Tensor appr_bias = appr_bias_.view({1, heads, 1, d}).repeat({n, 1, 1, 1});
    energy = torch::matmul(appr_bias, proj_key).view({n, heads, 1, h_kv * w_kv});
    h = w = 1;
  } else {
    if (!type_[0]) energy = torch::zeros({n, heads, h, w, h_kv, w_kv}, x_input.options());
    if (type_[0] && type_[2]) {
      energy = torch::matmul(proj_query + appr_bias_.view({1, heads, 1, d}), proj_key).view({n, heads, h, w, h_kv, w_kv});
    } else if (type_[0]) {
      energy = torch::matmul(proj_query, proj_key).view({n, heads, h, w, h_kv, w_kv});
    } else if (type_[2]) {
      const torch::Tensor appr_bias = appr_bias_.view({1, heads, 1, d}).repeat({n, 1, 1, 1});
      energy = energy + torch::matmul(appr_bias, proj_key).view({n, heads, 1, 1, h_kv, w_kv});
    }
    if (type_[1]) {
      torch::Tensor query = type_[3] ? proj_query + geom_bias_.view({1, heads, 1, d}) : proj_query;
      query = query.reshape({n, heads, h, w, d});
      // [n, heads, w, h, d] x [n, heads, w, d, w_kv] -> [n, heads, h, w, 1, w_kv]
      const torch::Tensor energy_x =
          torch::matmul(query.permute({0, 1, 3, 2, 4}), position_feat_x.permute({0, 1, 2, 4, 3})).permute({0, 1, 3, 2, 4}).unsqueeze(4);
      // [n, heads, h, w, d] x [n, heads, h, d, h_kv] -> [n, heads, h, w, h_kv, 1]
      const torch::Tensor energy_y = torch::matmul(query, position_feat_y.permute({0, 1, 2, 4, 3})).unsqueeze(5);
      energy = energy + (energy_x + energy_y);
    } else if (type_[3]) {
      const torch::Tensor geom_bias = geom_bias_.view({1, heads, d, 1}).repeat({n, 1, 1, 1});
      const torch::Tensor energy_x = torch::matmul(position_feat_x.reshape({n, heads, w * w_kv, d}), geom_bias).view({n, heads, 1, w, 1, w_kv});
      const torch::Tensor energy_y = torch::matmul(position_feat_y.reshape({n, heads, h * h_kv, d}), geom_bias).view({n, heads, h, 1, h_kv, 1});
      energy = energy + (energy_x + energy_y);
    }
    energy = energy.reshape({n, heads, h * w, h_kv * w_kv});
  }

  if (local_constraint_map_.defined()) {
    if (h > local_constraint_map_.size(0) || w > local_constraint_map_.size(1) || h_kv > local_constraint_map_.size(2) ||
        w_kv > local_constraint_map_.size(3))
      throw UserError("GeneralizedAttention: a " + std::to_string(h) + "x" + std::to_string(w) +
                      " map exceeds the spatial_range table (" + std::to_string(local_constraint_map_.size(0)) + ")");
    const torch::Tensor map = local_constraint_map_.index({Slice(0, h), Slice(0, w), Slice(0, h_kv), Slice(0, w_kv)})
                                  .contiguous()
                                  .view({1, 1, h * w, h_kv * w_kv})
                                  .to(torch::kBool);
    energy = energy.masked_fill(map, -std::numeric_limits<double>::infinity());
  }
  const torch::Tensor attention = torch::softmax(energy, 3);
  const torch::Tensor value = value_conv_->forward(x_kv).view({n, heads, v_dim_, h_kv * w_kv}).permute({0, 1, 3, 2});
  torch::Tensor out = torch::matmul(attention, value).permute({0, 1, 3, 2}).contiguous().view({n, v_dim_ * heads, h, w});
  out = proj_conv_->forward(out);
  if (options_.q_stride > 1)
    out = torch::nn::functional::interpolate(out, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{x_input.size(2), x_input.size(3)})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
  return gamma_ * out + x_input;
}

}  // namespace cppdet::models
