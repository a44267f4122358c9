#include "cppdet/models/task/anchor_generator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/core/error.h"

namespace cppdet::models {
namespace {

AnchorGeneratorOptions rpn_options() {
  AnchorGeneratorOptions o;
  for (double s : {4, 8, 16, 32, 64}) o.strides.emplace_back(s, s);
  o.ratios = {0.5, 1.0, 2.0};
  o.scales = {8};
  return o;
}

TEST(AnchorGenerator, Level0AnchorsAtOriginMatchMmdet) {
  // NOTES.md item 7: the level-0 anchors at grid (0, 0), centred at (0, 0).
  AnchorGenerator gen(rpn_options());
  torch::Tensor a = gen.grid_priors({{2, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, torch::kFloat32, torch::kCPU)[0];
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{2 * 3 * 3, 4}));
  torch::Tensor expected = torch::tensor({{-22.627417f, -11.313708f, 22.627417f, 11.313708f},
                                          {-16.f, -16.f, 16.f, 16.f},
                                          {-11.313708f, -22.627417f, 11.313708f, 22.627417f}});
  EXPECT_TRUE(torch::allclose(a.slice(0, 0, 3), expected, 0, 1e-5));
  // Position-major (y, then x), then anchors: row 3 is x = 1 (shift 4), row 9 is y = 1.
  EXPECT_TRUE(torch::allclose(a[3], expected[0] + torch::tensor({4.f, 0.f, 4.f, 0.f})));
  EXPECT_TRUE(torch::allclose(a[9], expected[0] + torch::tensor({0.f, 4.f, 0.f, 4.f})));
  EXPECT_EQ(gen.num_base_priors(), (std::vector<int64_t>{3, 3, 3, 3, 3}));
}

TEST(AnchorGenerator, OctaveScalesForRetinaNet) {
  AnchorGeneratorOptions o;
  o.strides = {{8, 8}};
  o.ratios = {1.0};
  o.octave_base_scale = 4;
  o.scales_per_octave = 3;
  AnchorGenerator gen(o);
  // sizes 8 * 4 * 2^(i/3): 32, 40.3175, 50.7968
  torch::Tensor b = gen.base_anchors(0);
  torch::Tensor w = b.select(1, 2) - b.select(1, 0);
  EXPECT_TRUE(torch::allclose(w, torch::tensor({32.f, 40.317474f, 50.796834f}), 0, 1e-4));
}

TEST(AnchorGenerator, CenterOffsetAndScaleMinor) {
  AnchorGeneratorOptions o;
  o.strides = {{16, 16}};
  o.ratios = {0.5, 2.0};
  o.scales = {1, 2};
  o.center_offset = 0.5;
  o.scale_major = false;
  AnchorGenerator gen(o);
  torch::Tensor b = gen.base_anchors(0);
  ASSERT_EQ(b.size(0), 4);
  // Centre (8, 8); scale-minor order: (scale 1: ratio 0.5, 2), (scale 2: ratio 0.5, 2).
  torch::Tensor cx = (b.select(1, 0) + b.select(1, 2)) / 2;
  EXPECT_TRUE(torch::allclose(cx, torch::full({4}, 8.f)));
  torch::Tensor w = b.select(1, 2) - b.select(1, 0);
  EXPECT_TRUE(torch::allclose(w, torch::tensor({16 * 1.4142135f, 16 / 1.4142135f, 32 * 1.4142135f, 32 / 1.4142135f}), 1e-5));
}

TEST(AnchorGenerator, ValidFlagsFollowPadShape) {
  AnchorGenerator gen(rpn_options());
  // pad 20 x 10 at stride 4 -> 5 valid rows, 3 valid columns of a 6 x 4 map.
  std::vector<torch::Tensor> flags = gen.valid_flags({{6, 4}, {3, 2}, {2, 1}, {1, 1}, {1, 1}}, {20, 10}, torch::kCPU);
  torch::Tensor f = flags[0].view({6, 4, 3});
  EXPECT_EQ(f.sum().item<int64_t>(), 5 * 3 * 3);
  EXPECT_FALSE(f[5][0][0].item<bool>());
  EXPECT_FALSE(f[0][3][0].item<bool>());
  EXPECT_TRUE(f[4][2][2].item<bool>());
}

TEST(AnchorGenerator, ConfigNeedsExactlyOneScaleSpec) {
  config::Dict d;
  d.set("type", "AnchorGenerator");
  d.set("strides", config::Value::list({4}));
  d.set("ratios", config::Value::list({1.0}));
  EXPECT_THROW(AnchorGeneratorOptions::from_config(d, "model.rpn_head.anchor_generator"), ConfigError);
  d.set("scales", config::Value::list({8}));
  d.set("octave_base_scale", 4);
  d.set("scales_per_octave", 3);
  EXPECT_THROW(AnchorGeneratorOptions::from_config(d, "model.rpn_head.anchor_generator"), ConfigError);
}

}  // namespace
}  // namespace cppdet::models
