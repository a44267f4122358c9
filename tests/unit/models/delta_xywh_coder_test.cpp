#include "cppdet/models/task/delta_xywh_coder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace cppdet::models {
namespace {

TEST(DeltaXYWHBBoxCoder, HandComputedDecode) {
  DeltaXYWHBBoxCoder coder;  // means 0, stds 1
  torch::Tensor anchors = torch::tensor({{0.f, 0.f, 10.f, 20.f}});
  // dx 0.1 -> cx 5 + 1 = 6; dy -0.25 -> cy 10 - 5 = 5; dw log 2 -> w 20; dh 0 -> h 20.
  torch::Tensor deltas = torch::tensor({{0.1f, -0.25f, std::log(2.f), 0.f}});
  torch::Tensor out = coder.decode(anchors, deltas);
  EXPECT_TRUE(torch::allclose(out, torch::tensor({{-4.f, -5.f, 16.f, 15.f}}), 1e-5, 1e-5));
  // Clipped to [0, W] x [0, H] of (h, w) = (12, 14).
  torch::Tensor clipped = coder.decode(anchors, deltas, ImageSize{12, 14});
  EXPECT_TRUE(torch::allclose(clipped, torch::tensor({{0.f, 0.f, 14.f, 12.f}})));
}

TEST(DeltaXYWHBBoxCoder, ClampsLogScaleAtWhRatioClip) {
  DeltaXYWHBBoxCoder coder;
  torch::Tensor anchors = torch::tensor({{0.f, 0.f, 1.f, 1.f}});
  torch::Tensor out = coder.decode(anchors, torch::tensor({{0.f, 0.f, 10.f, -10.f}}));
  const float max_ratio = std::abs(std::log(16.f / 1000.f));
  EXPECT_NEAR((out[0][2] - out[0][0]).item<float>(), std::exp(max_ratio), 1e-3);
  EXPECT_NEAR((out[0][3] - out[0][1]).item<float>(), std::exp(-max_ratio), 1e-6);
}

TEST(DeltaXYWHBBoxCoder, EncodeDecodeRoundTripWithStds) {
  DeltaXYWHCoderOptions o;
  o.target_stds = {0.1, 0.1, 0.2, 0.2};
  DeltaXYWHBBoxCoder coder(o);
  torch::manual_seed(0);
  torch::Tensor xy = torch::rand({20, 2}) * 100;
  torch::Tensor boxes = torch::cat({xy, xy + torch::rand({20, 2}) * 50 + 1}, 1);
  torch::Tensor gxy = xy + torch::randn({20, 2}) * 3;
  torch::Tensor gts = torch::cat({gxy, gxy + torch::rand({20, 2}) * 50 + 1}, 1);
  torch::Tensor deltas = coder.encode(boxes, gts);
  EXPECT_TRUE(torch::allclose(coder.decode(boxes, deltas), gts, 1e-4, 1e-3));
  // Class-specific deltas [N, 4k] decode each class slice against the same box.
  torch::Tensor two = coder.decode(boxes, torch::cat({deltas, deltas}, 1));
  EXPECT_EQ(two.sizes(), (std::vector<int64_t>{20, 8}));
  EXPECT_TRUE(torch::allclose(two.slice(1, 4, 8), gts, 1e-4, 1e-3));
}

TEST(DeltaXYWHBBoxCoder, CenterClampForYolof) {
  DeltaXYWHCoderOptions o;
  o.add_ctr_clamp = true;
  o.ctr_clamp = 32;
  DeltaXYWHBBoxCoder coder(o);
  torch::Tensor out = coder.decode(torch::tensor({{0.f, 0.f, 100.f, 100.f}}), torch::tensor({{1.f, 0.f, 0.f, 0.f}}));
  EXPECT_NEAR(((out[0][0] + out[0][2]) / 2).item<float>(), 50.f + 32.f, 1e-4);
}

}  // namespace
}  // namespace cppdet::models
