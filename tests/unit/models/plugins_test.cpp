// The ResNet plugin layers (models/plugins/) against references written here from their
// definitions (GCNet's global context block; the generalized attention of "An Empirical Study of
// Spatial Attention Mechanisms": per head and per (query, key) pair, the energy terms chosen by
// attention_type, softmax over keys, weighted values, projection, gamma-scaled residual), with
// every parameter random (gamma and the zero-initialised convs included), in double.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/core/error.h"
#include "cppdet/models/plugins/context_block.h"
#include "cppdet/models/plugins/generalized_attention.h"
#include "cppdet/models/registries.h"
#include "support/test_support.h"

namespace cppdet::models {
namespace {

void randomise_plugin_params(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.named_parameters())
    if (p.key() != "local_constraint_map") p.value().normal_(0, 0.3);
}

torch::Tensor plugin_param(torch::nn::Module& m, const std::string& name) { return m.named_parameters()[name]; }

// [C_out, C_in, 1, 1] conv of x [N, C_in, H, W] with bias (or none).
torch::Tensor ref_conv1x1(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b = {}) {
  torch::Tensor y = torch::einsum("oc,nchw->nohw", {w.flatten(1), x});
  return b.defined() ? y + b.view({1, -1, 1, 1}) : y;
}

torch::Tensor reference_context_block(torch::nn::Module& m, const ContextBlockOptions& o, const torch::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1);
  const torch::Tensor flat = x.reshape({n, c, -1});  // [N, C, P]
  torch::Tensor context;
  if (o.pooling_type == "att") {
    const torch::Tensor logits = ref_conv1x1(x, plugin_param(m, "conv_mask.weight"), plugin_param(m, "conv_mask.bias")).reshape({n, -1});
    context = (flat * torch::softmax(logits, 1).unsqueeze(1)).sum(2);  // [N, C]
  } else {
    context = flat.mean(2);
  }
  auto transform = [&](const std::string& prefix) {
    torch::Tensor t = torch::matmul(context, plugin_param(m, prefix + ".0.weight").flatten(1).t()) + plugin_param(m, prefix + ".0.bias");
    const torch::Tensor mean = t.mean(1, true), var = (t - mean).pow(2).mean(1, true);
    t = (t - mean) / torch::sqrt(var + 1e-5) * plugin_param(m, prefix + ".1.weight").flatten() + plugin_param(m, prefix + ".1.bias").flatten();
    t = torch::relu(t);
    return (torch::matmul(t, plugin_param(m, prefix + ".3.weight").flatten(1).t()) + plugin_param(m, prefix + ".3.bias")).view({n, c, 1, 1});
  };
  torch::Tensor out = x;
  for (const std::string& f : o.fusion_types)
    if (f == "channel_mul") out = out * torch::sigmoid(transform("channel_mul_conv"));
  for (const std::string& f : o.fusion_types)
    if (f == "channel_add") out = out + transform("channel_add_conv");
  return out;
}

TEST(ContextBlock, MatchesTheDefinition) {
  for (const char* pooling : {"att", "avg"}) {
    SCOPED_TRACE(pooling);
    ContextBlockOptions o;
    o.in_channels = 12;
    o.ratio = 1.0 / 4;
    o.pooling_type = pooling;
    o.fusion_types = {"channel_add", "channel_mul"};
    torch::manual_seed(1);
    ContextBlock block(o);
    block.to(torch::kDouble);
    randomise_plugin_params(block);
    const torch::Tensor x = torch::randn({2, 12, 5, 7}, torch::kDouble);
    const torch::Tensor got = block.forward(x);
    EXPECT_TRUE(got.allclose(reference_context_block(block, o, x), 1e-10, 1e-12));
  }
}

TEST(ContextBlock, KeysAndInitAsMmcv) {
  ContextBlockOptions o;
  o.in_channels = 64;
  o.ratio = 1.0 / 16;
  ContextBlock block(o);
  std::vector<std::string> keys;
  for (const auto& p : block.named_parameters()) keys.push_back(p.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"conv_mask.weight", "conv_mask.bias", "channel_add_conv.0.weight",
                                            "channel_add_conv.0.bias", "channel_add_conv.1.weight", "channel_add_conv.1.bias",
                                            "channel_add_conv.3.weight", "channel_add_conv.3.bias"}));
  EXPECT_EQ(plugin_param(block, "channel_add_conv.1.weight").sizes(), (std::vector<int64_t>{4, 1, 1}));
  // last_zero_init: the block starts as the identity.
  const torch::Tensor x = torch::randn({1, 64, 4, 4});
  EXPECT_TRUE(torch::equal(block.forward(x), x));
}

// The sinusoidal embedding of one offset, [2 * ceil(dim / 4)]: sin then cos of
// delta / 1000^(4 f / dim).
torch::Tensor ref_position_embed(double delta, int64_t dim) {
  const int64_t f = (dim + 3) / 4;
  torch::Tensor out = torch::empty({2 * f}, torch::kDouble);
  for (int64_t i = 0; i < f; ++i) {
    const double phase = delta / std::pow(1000.0, 4.0 / static_cast<double>(dim) * static_cast<double>(i));
    out[i] = std::sin(phase);
    out[f + i] = std::cos(phase);
  }
  return out;
}

torch::Tensor reference_attention(torch::nn::Module& m, const GeneralizedAttentionOptions& o, const torch::Tensor& x) {
  using torch::indexing::Slice;
  const bool t0 = o.attention_type[0] == '1', t1 = o.attention_type[1] == '1';
  const bool t2 = o.attention_type[2] == '1', t3 = o.attention_type[3] == '1';
  const int64_t c = o.in_channels, heads = o.num_heads, d = c / heads;
  const int64_t dim = o.position_embedding_dim > 0 ? o.position_embedding_dim : c;
  const int64_t qs = o.q_stride, ks = o.kv_stride;
  const torch::Tensor x_q = x.index({Slice(), Slice(), Slice(0, torch::indexing::None, qs), Slice(0, torch::indexing::None, qs)});
  const torch::Tensor x_kv = x.index({Slice(), Slice(), Slice(0, torch::indexing::None, ks), Slice(0, torch::indexing::None, ks)});
  const int64_t n = x.size(0), h = x_q.size(2), w = x_q.size(3), hk = x_kv.size(2), wk = x_kv.size(3);
  torch::Tensor q, k;
  if (t0 || t1) q = ref_conv1x1(x_q, plugin_param(m, "query_conv.weight"));
  if (t0 || t2) k = ref_conv1x1(x_kv, plugin_param(m, "key_conv.weight"));
  const torch::Tensor v = ref_conv1x1(x_kv, plugin_param(m, "value_conv.weight"));
  // Relative-position terms per (query column, key column) and (query row, key row): [.., .., C].
  torch::Tensor rx, ry;
  if (t1 || t3) {
    rx = torch::empty({w, wk, c}, x.options());
    ry = torch::empty({h, hk, c}, x.options());
    for (int64_t qx = 0; qx < w; ++qx)
      for (int64_t kx = 0; kx < wk; ++kx)
        rx[qx][kx] = torch::matmul(plugin_param(m, "appr_geom_fc_x.weight"), ref_position_embed(double(qx * qs - kx * ks), dim)) / std::sqrt(2.0);
    for (int64_t qy = 0; qy < h; ++qy)
      for (int64_t ky = 0; ky < hk; ++ky)
        ry[qy][ky] = torch::matmul(plugin_param(m, "appr_geom_fc_y.weight"), ref_position_embed(double(qy * qs - ky * ks), dim)) / std::sqrt(2.0);
  }
  torch::Tensor out = torch::zeros({n, c, h, w}, x.options());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t head = 0; head < heads; ++head) {
      const Slice ch(head * d, (head + 1) * d);
      for (int64_t qy = 0; qy < h; ++qy)
        for (int64_t qx = 0; qx < w; ++qx) {
          torch::Tensor energy = torch::empty({hk * wk}, x.options());
          for (int64_t ky = 0; ky < hk; ++ky)
            for (int64_t kx = 0; kx < wk; ++kx) {
              double e = 0;
              const torch::Tensor qv = (t0 || t1) ? q.index({b, ch, qy, qx}) : torch::Tensor();
              const torch::Tensor kv = (t0 || t2) ? k.index({b, ch, ky, kx}) : torch::Tensor();
              if (t0) e += qv.dot(kv).item<double>();
              if (t2) e += plugin_param(m, "appr_bias").index({ch}).dot(kv).item<double>();
              if (t1 || t3) {
                const torch::Tensor r = rx.index({qx, kx, ch}) + ry.index({qy, ky, ch});
                if (t1) e += qv.dot(r).item<double>();
                if (t3) e += plugin_param(m, "geom_bias").index({ch}).dot(r).item<double>();
              }
              const bool masked = o.spatial_range >= 0 &&
                                  !(ky >= std::max<int64_t>((qy - o.spatial_range) / ks - ((qy - o.spatial_range) % ks < 0), 0) &&
                                    ky < (qy + o.spatial_range + 1) / ks + 1 &&
                                    kx >= std::max<int64_t>((qx - o.spatial_range) / ks - ((qx - o.spatial_range) % ks < 0), 0) &&
                                    kx < (qx + o.spatial_range + 1) / ks + 1);
              energy[ky * wk + kx] = masked ? -INFINITY : e;
            }
          const torch::Tensor a = torch::softmax(energy, 0);
          out.index_put_({b, ch, qy, qx}, torch::matmul(v.index({b, ch}).reshape({d, hk * wk}), a));
        }
    }
  out = ref_conv1x1(out, plugin_param(m, "proj_conv.weight"), plugin_param(m, "proj_conv.bias"));
  if (qs > 1)
    out = torch::nn::functional::interpolate(out, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
  return plugin_param(m, "gamma") * out + x;
}

struct AttentionCase {
  std::string type;
  int64_t channels, heads, embed_dim, q_stride, kv_stride, spatial_range;
};

TEST(GeneralizedAttention, MatchesTheDefinition) {
  // Every single term, pairs, strides on queries and keys, a position embedding narrower than
  // the channels, and the spatial range mask (mmcv's table needs 256 channels).
  const std::vector<AttentionCase> all{{"1111", 16, 2, -1, 1, 2, -1}, {"0010", 16, 2, -1, 1, 2, -1},
                                       {"1000", 12, 3, -1, 2, 1, -1}, {"0101", 16, 4, 12, 1, 2, -1},
                                       {"0011", 16, 2, -1, 2, 2, -1}, {"1110", 256, 8, 16, 1, 2, 2}};
  for (const AttentionCase& c : all) {
    SCOPED_TRACE(c.type + " with " + std::to_string(c.channels) + " channels");
    GeneralizedAttentionOptions o;
    o.in_channels = c.channels;
    o.num_heads = c.heads;
    o.attention_type = c.type;
    o.position_embedding_dim = c.embed_dim;
    o.q_stride = c.q_stride;
    o.kv_stride = c.kv_stride;
    o.spatial_range = c.spatial_range;
    torch::manual_seed(2);
    GeneralizedAttention ga(o);
    ga.to(torch::kDouble);
    randomise_plugin_params(ga);
    const torch::Tensor x = torch::randn({2, c.channels, 7, 5}, torch::kDouble);
    const torch::Tensor got = ga.forward(x);
    const torch::Tensor ref = reference_attention(ga, o, x);
    EXPECT_LT((got - ref).abs().max().item<double>(), 1e-10 * ref.abs().max().item<double>());
  }
}

TEST(GeneralizedAttention, KeysAndInitAsMmcv) {
  GeneralizedAttentionOptions o;
  o.in_channels = 32;
  o.num_heads = 8;
  o.attention_type = "1111";
  GeneralizedAttention ga(o);
  std::vector<std::string> keys;
  for (const auto& p : ga.named_parameters()) keys.push_back(p.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"appr_bias", "geom_bias", "gamma", "query_conv.weight", "key_conv.weight",
                                            "value_conv.weight", "appr_geom_fc_x.weight", "appr_geom_fc_y.weight",
                                            "proj_conv.weight", "proj_conv.bias"}));
  EXPECT_EQ(plugin_param(ga, "appr_geom_fc_x.weight").sizes(), (std::vector<int64_t>{32, 16}));
  // gamma = 0: the identity until trained; |appr_bias| <= 1 / sqrt(2 * 4).
  const torch::Tensor x = torch::randn({1, 32, 6, 6});
  EXPECT_TRUE(torch::equal(ga.forward(x), x));
  EXPECT_LE(plugin_param(ga, "appr_bias").abs().max().item<double>(), 1 / std::sqrt(8.0) + 1e-6);
}

TEST(Plugins, BuiltFromConfigWithClearErrors) {
  config::Dict cfg;
  cfg.set("type", config::Value(std::string("ContextBlock")));
  cfg.set("ratio", config::Value(0.25));
  EXPECT_EQ(plugin_registry().build(config::Value(cfg), "p", 64)->abbr(), "context_block");
  cfg.set("pooling_type", config::Value(std::string("max")));
  EXPECT_NE(testing::user_error_of([&] { plugin_registry().build(config::Value(cfg), "m.plugins[0].cfg", 64); })
                .find("m.plugins[0].cfg.pooling_type"),
            std::string::npos);
  config::Dict ga;
  ga.set("type", config::Value(std::string("GeneralizedAttention")));
  ga.set("attention_type", config::Value(std::string("12")));
  EXPECT_NE(testing::user_error_of([&] { plugin_registry().build(config::Value(ga), "g", 64); }).find("g.attention_type"),
            std::string::npos);
  ga.set("attention_type", config::Value(std::string("1111")));
  ga.set("spatial_range", config::Value(int64_t{3}));
  EXPECT_NE(testing::user_error_of([&] { plugin_registry().build(config::Value(ga), "g", 64); }).find("256 or 512"),
            std::string::npos);
}

}  // namespace
}  // namespace cppdet::models
