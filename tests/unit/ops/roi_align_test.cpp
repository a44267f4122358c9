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

struct Setting {
  double scale;
  int64_t sampling_ratio;
  bool aligned;
};

const std::vector<Setting>& settings() {
  static const std::vector<Setting> s{{0.25, 0, true}, {0.125, 0, true}, {0.25, 2, true}, {0.25, 0, false}, {1.0, 0, true},
                                        // 126 RoIs x 49 bins x 64 samples: the backward's taps span several chunks
                                        {1.0, 8, true}};
  return s;
}

// One Python run computes torchvision's forward and input gradient for every setting.
class RoIAlignVsTorchvision : public ::testing::TestWithParam<size_t> {
 protected:
  static void SetUpTestSuite() {
    if (!testing::python_torchvision_available()) return;
    torch::manual_seed(7);
    inputs_ = {{"input", torch::randn({2, 5, 23, 31})}};
    std::string body;
    for (size_t k = 0; k < settings().size(); ++k) {
      const Setting& st = settings()[k];
      const std::string i = std::to_string(k);
      inputs_["rois" + i] = make_rois(2, 31 / st.scale, 11 + k);
      inputs_["grad" + i] = torch::randn({inputs_["rois" + i].size(0), 5, 7, 7});
      body += "x = inp['input'].clone().requires_grad_(True)\n"
              "y = torchvision.ops.roi_align(x, inp['rois" + i + "'], (7, 7), " + std::to_string(st.scale) + ", " +
              std::to_string(st.sampling_ratio) + ", " + (st.aligned ? "True" : "False") + ")\n"
              "y.backward(inp['grad" + i + "'])\n"
              "out['y" + i + "'] = y\n"
              "out['gx" + i + "'] = x.grad\n";
    }
    ref_ = run_python_reference(body, inputs_);
  }
  void SetUp() override {
    if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  }
  static inline testing::TensorMap inputs_;
  static inline testing::TensorMap ref_;
};

TEST_P(RoIAlignVsTorchvision, ForwardAndBackwardBitExact) {
  const Setting& st = settings()[GetParam()];
  const std::string i = std::to_string(GetParam());
  torch::Tensor x = inputs_["input"].clone().requires_grad_(true);
  torch::Tensor y = roi_align(x, inputs_["rois" + i], 7, 7, st.scale, st.sampling_ratio, st.aligned);
  EXPECT_TRUE(torch::equal(y.detach(), ref_["y" + i])) << "max diff " << (y - ref_["y" + i]).abs().max().item<float>();
  y.backward(inputs_["grad" + i]);
  EXPECT_TRUE(torch::equal(x.grad(), ref_["gx" + i])) << "max diff " << (x.grad() - ref_["gx" + i]).abs().max().item<float>();
}

INSTANTIATE_TEST_SUITE_P(Settings, RoIAlignVsTorchvision, ::testing::Range<size_t>(0, 6));

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
