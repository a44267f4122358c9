#include "cppdet/ops/roi_align.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "python_reference.h"

namespace cppdet::ops {
namespace {

using testing::run_python_reference;

// Random RoIs plus edge cases: tiny, zero-size, inverted, partly and fully outside the map.
torch::Tensor make_rois(int64_t batch, double extent, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t n = 120;
  torch::Tensor xy = torch::rand({n, 2}) * extent * 1.2 - extent * 0.1;
  torch::Tensor wh = torch::rand({n, 2}) * extent / 2;
  torch::Tensor b = torch::randint(0, batch, {n, 1}).to(torch::kFloat32);
  torch::Tensor rois = torch::cat({b, xy, xy + wh}, 1);
  torch::Tensor edge = torch::tensor({
      {0.f, 5.f, 5.f, 5.f, 5.f},                 // zero size
      {0.f, 3.f, 3.f, 3.2f, 3.1f},               // tiny
      {0.f, 10.f, 10.f, 4.f, 4.f},               // inverted
      {0.f, -50.f, -50.f, -10.f, -10.f},         // fully outside (top-left)
      {0.f, -20.f, 10.f, 30.f, 40.f},            // partly outside
      {0.f, 0.f, 0.f, static_cast<float>(extent), static_cast<float>(extent)},  // whole map
      {0.f, static_cast<float>(extent) - 1, 2.f, static_cast<float>(extent) + 40, 9.f}});
  if (batch > 1) edge.index_put_({3, 0}, 1.f);
  return torch::cat({rois, edge}, 0);
}

class RoIAlignVsTorchvision : public ::testing::TestWithParam<std::tuple<double, int64_t, bool>> {
 protected:
  void SetUp() override {
    if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  }
};

TEST_P(RoIAlignVsTorchvision, ForwardAndBackwardBitExact) {
  const auto [scale, sampling_ratio, aligned] = GetParam();
  torch::manual_seed(7);
  torch::Tensor input = torch::randn({2, 5, 23, 31});
  torch::Tensor rois = make_rois(2, 31 / scale, 11);
  torch::Tensor grad = torch::randn({rois.size(0), 5, 7, 7});
  const std::string args = std::to_string(scale) + ", " + std::to_string(sampling_ratio) + ", " +
                           (aligned ? "True" : "False");
  auto ref = run_python_reference(
      "x = inp['input'].clone().requires_grad_(True)\n"
      "y = torchvision.ops.roi_align(x, inp['rois'], (7, 7), " + args + ")\n"
      "y.backward(inp['grad'])\n"
      "out['y'] = y\n"
      "out['gx'] = x.grad\n",
      {{"input", input}, {"rois", rois}, {"grad", grad}});

  torch::Tensor x = input.clone().requires_grad_(true);
  torch::Tensor y = roi_align(x, rois, 7, 7, scale, sampling_ratio, aligned);
  EXPECT_TRUE(torch::equal(y.detach(), ref["y"])) << "max diff " << (y - ref["y"]).abs().max().item<float>();
  y.backward(grad);
  EXPECT_TRUE(torch::equal(x.grad(), ref["gx"])) << "max diff " << (x.grad() - ref["gx"]).abs().max().item<float>();
}

INSTANTIATE_TEST_SUITE_P(Settings, RoIAlignVsTorchvision,
                         ::testing::Values(std::make_tuple(0.25, int64_t{0}, true),
                                           std::make_tuple(0.125, int64_t{0}, true),
                                           std::make_tuple(0.25, int64_t{2}, true),
                                           std::make_tuple(0.25, int64_t{0}, false),
                                           std::make_tuple(1.0, int64_t{0}, true)));

TEST(RoIAlign, EmptyRoisGiveEmptyOutput) {
  torch::Tensor out = roi_align(torch::randn({1, 3, 8, 8}), torch::zeros({0, 5}), 7, 7, 0.25);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 3, 7, 7}));
}

TEST(RoIAlign, ConstantMapGivesConstantInside) {
  // A RoI fully inside a constant map averages to that constant.
  torch::Tensor x = torch::full({1, 1, 16, 16}, 3.f);
  torch::Tensor rois = torch::tensor({{0.f, 8.f, 8.f, 40.f, 40.f}});
  torch::Tensor out = roi_align(x, rois, 2, 2, 0.25);
  EXPECT_TRUE(torch::allclose(out, torch::full({1, 1, 2, 2}, 3.f)));
}

TEST(RoIAlign, RejectsBadShapes) {
  EXPECT_THROW(roi_align(torch::randn({3, 8, 8}), torch::zeros({1, 5}), 7, 7, 0.25), c10::Error);
  EXPECT_THROW(roi_align(torch::randn({1, 3, 8, 8}), torch::zeros({1, 4}), 7, 7, 0.25), c10::Error);
}

}  // namespace
}  // namespace cppdet::ops
