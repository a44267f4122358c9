#include "cppdet/ops/mask_paste.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "python_reference.h"

namespace cppdet::ops {
namespace {

// mmdet 2.25's _do_paste_mask on the CPU path (one detection per chunk, skip_empty=True).
const char* kPaste = R"PY(
import torch.nn.functional as F
def do_paste(masks, boxes, img_h, img_w):
    x0_int, y0_int = torch.clamp(boxes.min(dim=0).values.floor()[:2] - 1, min=0).to(dtype=torch.int32)
    x1_int = torch.clamp(boxes[:, 2].max().ceil() + 1, max=img_w).to(dtype=torch.int32)
    y1_int = torch.clamp(boxes[:, 3].max().ceil() + 1, max=img_h).to(dtype=torch.int32)
    x0, y0, x1, y1 = torch.split(boxes, 1, dim=1)
    N = masks.shape[0]
    img_y = torch.arange(y0_int, y1_int).to(torch.float32) + 0.5
    img_x = torch.arange(x0_int, x1_int).to(torch.float32) + 0.5
    img_y = (img_y - y0) / (y1 - y0) * 2 - 1
    img_x = (img_x - x0) / (x1 - x0) * 2 - 1
    if torch.isinf(img_x).any(): img_x[torch.where(torch.isinf(img_x))] = 0
    if torch.isinf(img_y).any(): img_y[torch.where(torch.isinf(img_y))] = 0
    gx = img_x[:, None, :].expand(N, img_y.size(1), img_x.size(1))
    gy = img_y[:, :, None].expand(N, img_y.size(1), img_x.size(1))
    grid = torch.stack([gx, gy], dim=3)
    img_masks = F.grid_sample(masks.to(dtype=torch.float32), grid, align_corners=False)
    return img_masks[:, 0], (slice(y0_int, y1_int), slice(x0_int, x1_int))
def paste_all(probs, boxes, h, w):
    N = len(probs)
    im = torch.zeros(N, h, w, dtype=torch.bool)
    for inds in torch.chunk(torch.arange(N), N):
        m, sp = do_paste(probs[inds][:, None], boxes[inds], h, w)
        im[(inds,) + sp] = m >= 0.5
    return im
)PY";

TEST(MaskPaste, MatchesMmdetCpuPath) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  torch::manual_seed(3);
  const int64_t n = 12, h = 57, w = 83;
  torch::Tensor probs = torch::sigmoid(torch::randn({n, 28, 28}) * 3);
  torch::Tensor xy = torch::rand({n, 2}) * torch::tensor({float(w), float(h)});
  torch::Tensor boxes = torch::cat({xy - 5, xy + torch::rand({n, 2}) * 40}, 1);
  boxes[0] = torch::tensor({10.f, 10.f, 10.f, 30.f});   // zero width
  boxes[1] = torch::tensor({-20.f, -10.f, 200.f, 90.f});  // larger than the image
  boxes[2] = torch::tensor({0.3f, 0.7f, 1.2f, 2.9f});     // tiny
  auto ref = testing::run_python_reference(
      std::string(kPaste) + "out['m'] = paste_all(inp['probs'], inp['boxes'], 57, 83)\n",
      {{"probs", probs}, {"boxes", boxes}});
  torch::Tensor got = paste_masks(probs, boxes, h, w, 0.5);
  ASSERT_EQ(got.scalar_type(), torch::kBool);
  EXPECT_TRUE(torch::equal(got, ref["m"])) << "differing pixels " << (got != ref["m"]).sum().item<int64_t>();
}

TEST(MaskPaste, FullBoxOfOnesFillsItsPixels) {
  // A box covering pixels [2, 6) x [1, 5) with all-ones probabilities: interior pixels are set;
  // the zero padding halves the value at the border samples, still >= 0.5 at pixel centres.
  torch::Tensor probs = torch::ones({1, 28, 28});
  torch::Tensor boxes = torch::tensor({{2.f, 1.f, 6.f, 5.f}});
  torch::Tensor m = paste_masks(probs, boxes, 8, 10, 0.5)[0];
  EXPECT_EQ(m.sum().item<int64_t>(), 16);
  EXPECT_TRUE(m.index({torch::indexing::Slice(1, 5), torch::indexing::Slice(2, 6)}).all().item<bool>());
}

TEST(MaskPaste, SoftMasksWhenThresholdNegative) {
  torch::Tensor m = paste_masks(torch::ones({1, 28, 28}), torch::tensor({{0.f, 0.f, 4.f, 4.f}}), 4, 4, -1);
  EXPECT_EQ(m.scalar_type(), torch::kUInt8);
  EXPECT_EQ(m[0][1][1].item<int>(), 255);
}

}  // namespace
}  // namespace cppdet::ops
