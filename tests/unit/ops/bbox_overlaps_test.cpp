#include "cppdet/ops/bbox_overlaps.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "python_reference.h"

namespace cppdet::ops {
namespace {

TEST(BboxOverlaps, HandComputed) {
  torch::Tensor a = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {10.f, 10.f, 20.f, 20.f}});
  torch::Tensor b = torch::tensor({{0.f, 0.f, 10.f, 5.f}, {5.f, 5.f, 15.f, 15.f}, {30.f, 30.f, 40.f, 40.f}});
  torch::Tensor iou = bbox_overlaps(a, b);
  torch::Tensor expected = torch::tensor({{0.5f, 25.f / 175.f, 0.f}, {0.f, 25.f / 175.f, 0.f}});
  EXPECT_TRUE(torch::allclose(iou, expected));
  torch::Tensor iof = bbox_overlaps(a, b, OverlapMode::kIoF);
  EXPECT_TRUE(torch::allclose(iof, torch::tensor({{0.5f, 0.25f, 0.f}, {0.f, 0.25f, 0.f}})));
  torch::Tensor aligned = bbox_overlaps(a, b.slice(0, 0, 2), OverlapMode::kIoU, true);
  EXPECT_TRUE(torch::allclose(aligned, torch::tensor({0.5f, 25.f / 175.f})));
  // GIoU of disjoint boxes is negative: IoU 0 minus (enclosure - union) / enclosure.
  torch::Tensor giou = bbox_overlaps(a.slice(0, 0, 1), b.slice(0, 2, 3), OverlapMode::kGIoU);
  EXPECT_NEAR(giou.item<float>(), -(1600.f - 200.f) / 1600.f, 1e-6);
}

TEST(BboxOverlaps, EmptyShapes) {
  EXPECT_EQ(bbox_overlaps(torch::zeros({0, 4}), torch::zeros({3, 4})).sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(bbox_overlaps(torch::zeros({0, 4}), torch::zeros({0, 4}), OverlapMode::kIoU, true).sizes(),
            (std::vector<int64_t>{0}));
  EXPECT_THROW(overlap_mode_from_string("dice"), std::invalid_argument);
}

TEST(BboxOverlaps, MatchesTorchvisionBoxIou) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  torch::manual_seed(5);
  torch::Tensor xy1 = torch::rand({50, 2}) * 100, xy2 = torch::rand({70, 2}) * 100;
  torch::Tensor a = torch::cat({xy1, xy1 + torch::rand({50, 2}) * 40}, 1);
  torch::Tensor b = torch::cat({xy2, xy2 + torch::rand({70, 2}) * 40}, 1);
  auto ref = testing::run_python_reference("out['iou'] = torchvision.ops.box_iou(inp['a'], inp['b'])",
                                           {{"a", a}, {"b", b}});
  EXPECT_TRUE(torch::allclose(bbox_overlaps(a, b), ref["iou"], 1e-6, 1e-7));
}

}  // namespace
}  // namespace cppdet::ops
