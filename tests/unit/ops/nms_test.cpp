#include "cppdet/ops/nms.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "python_reference.h"

namespace cppdet::ops {
namespace {

using testing::run_python_reference;

// mmcv 1.6's CPU NMS kernel and batched_nms, ported to Python (the oracle's reference).
const char* kMmcvNms = R"PY(
def mmcv_nms(boxes, scores, thr, offset=0):
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    x1, y1, x2, y2 = [boxes[:, k].contiguous() for k in range(4)]
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    order = scores.sort(0, descending=True)[1]
    sel = torch.ones(len(boxes), dtype=torch.bool)
    thr = np.float32(thr)
    x1n, y1n, x2n, y2n, an = [t.numpy() for t in (x1, y1, x2, y2, areas)]
    o = order.numpy()
    for a in range(len(o)):
        if not sel[a]: continue
        i = o[a]
        for b in range(a + 1, len(o)):
            if not sel[b]: continue
            j = o[b]
            w = max(np.float32(0), np.float32(min(x2n[i], x2n[j]) - max(x1n[i], x1n[j]) + np.float32(offset)))
            h = max(np.float32(0), np.float32(min(y2n[i], y2n[j]) - max(y1n[i], y1n[j]) + np.float32(offset)))
            inter = np.float32(w * h)
            ovr = np.float32(inter / np.float32(np.float32(an[i] + an[j]) - inter))
            if ovr > thr: sel[b] = False
    return order[sel]

def mmcv_batched_nms(boxes, scores, idxs, thr, split_thr=10000):
    mc = boxes.max()
    offsets = idxs.to(boxes) * (mc + torch.tensor(1).to(boxes))
    bn = boxes + offsets[:, None]
    if bn.shape[0] < split_thr:
        keep = mmcv_nms(bn, scores, thr)
        return torch.cat([boxes[keep], scores[keep][:, None]], -1), keep
    total = torch.zeros(scores.size(), dtype=torch.bool)
    for i in torch.unique(idxs):
        m = (idxs == i).nonzero().view(-1)
        k = mmcv_nms(bn[m], scores[m], thr)
        total[m[k]] = True
    keep = total.nonzero().view(-1)
    s, inds = scores[keep].sort(descending=True)
    keep = keep[inds]
    return torch.cat([boxes[keep], s[:, None]], -1), keep
)PY";

torch::Tensor random_boxes(int64_t n, double extent, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor xy = torch::rand({n, 2}) * extent;
  torch::Tensor wh = torch::rand({n, 2}) * extent / 4 + 0.5;
  return torch::cat({xy, xy + wh}, 1);
}

class NmsVsPython : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  }
};

TEST_F(NmsVsPython, MatchesMmcvKernelWithTiedScores) {
  torch::Tensor boxes = random_boxes(400, 100, 1);
  // Scores quantised to 20 levels: many ties, broken as torch's sort breaks them.
  torch::Tensor scores = torch::floor(torch::rand({400}) * 20) / 20;
  auto ref = run_python_reference(std::string(kMmcvNms) +
                                      "out['keep'] = mmcv_nms(inp['boxes'], inp['scores'], 0.5)\n"
                                      "out['keep_off1'] = mmcv_nms(inp['boxes'], inp['scores'], 0.3, 1)\n",
                                  {{"boxes", boxes}, {"scores", scores}});
  EXPECT_TRUE(torch::equal(nms(boxes, scores, 0.5), ref["keep"]));
  EXPECT_TRUE(torch::equal(nms(boxes, scores, 0.3, 1), ref["keep_off1"]));
}

TEST_F(NmsVsPython, MatchesTorchvisionWithoutTies) {
  torch::Tensor boxes = random_boxes(1000, 200, 2);
  torch::Tensor scores = torch::randperm(1000).to(torch::kFloat32) / 1000;
  auto ref = run_python_reference("out['keep'] = torchvision.ops.nms(inp['boxes'], inp['scores'], 0.7)",
                                  {{"boxes", boxes}, {"scores", scores}});
  EXPECT_TRUE(torch::equal(nms(boxes, scores, 0.7), ref["keep"]));
}

TEST_F(NmsVsPython, BatchedNmsBothPathsMatchMmcv) {
  torch::Tensor boxes = random_boxes(600, 300, 3);
  torch::Tensor scores = torch::floor(torch::rand({600}) * 50) / 50;
  torch::Tensor idxs = torch::randint(0, 7, {600}, torch::kLong);
  auto ref = run_python_reference(std::string(kMmcvNms) +
                                      "out['dets'], out['keep'] = mmcv_batched_nms(inp['boxes'], inp['scores'], inp['idxs'], 0.5)\n"
                                      "out['dets_s'], out['keep_s'] = mmcv_batched_nms(inp['boxes'], inp['scores'], inp['idxs'], 0.5, 100)\n",
                                  {{"boxes", boxes}, {"scores", scores}, {"idxs", idxs}});
  BatchedNmsResult r = batched_nms(boxes, scores, idxs, 0.5);
  EXPECT_TRUE(torch::equal(r.keep, ref["keep"]));
  EXPECT_TRUE(torch::equal(r.dets, ref["dets"]));
  BatchedNmsResult s = batched_nms(boxes, scores, idxs, 0.5, false, /*split_thr=*/100);
  EXPECT_TRUE(torch::equal(s.keep, ref["keep_s"]));
  EXPECT_TRUE(torch::equal(s.dets, ref["dets_s"]));
}

TEST(Nms, HandComputedStrictThreshold) {
  // IoU of the two boxes is exactly 0.5: not suppressed at thr 0.5 (strict >), at 0.49 it is.
  torch::Tensor boxes = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 10.f, 5.f}, {20.f, 20.f, 30.f, 30.f}});
  torch::Tensor scores = torch::tensor({0.9f, 0.8f, 0.7f});
  EXPECT_TRUE(torch::equal(nms(boxes, scores, 0.5), torch::tensor({0, 1, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(nms(boxes, scores, 0.49), torch::tensor({0, 2}, torch::kLong)));
}

TEST(Nms, EmptyInputs) {
  torch::Tensor boxes = torch::zeros({0, 4});
  torch::Tensor scores = torch::zeros({0});
  EXPECT_EQ(nms(boxes, scores, 0.5).numel(), 0);
  BatchedNmsResult r = batched_nms(boxes, scores, torch::zeros({0}, torch::kLong), 0.5);
  EXPECT_EQ(r.dets.size(0), 0);
  EXPECT_EQ(r.dets.size(1), 5);
}

TEST(Nms, ClassesDoNotSuppressEachOther) {
  torch::Tensor boxes = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 10.f, 10.f}});
  torch::Tensor scores = torch::tensor({0.9f, 0.8f});
  EXPECT_EQ(batched_nms(boxes, scores, torch::tensor({0, 1}, torch::kLong), 0.5).keep.numel(), 2);
  EXPECT_EQ(batched_nms(boxes, scores, torch::tensor({1, 1}, torch::kLong), 0.5).keep.numel(), 1);
  EXPECT_EQ(batched_nms(boxes, scores, torch::tensor({0, 1}, torch::kLong), 0.5, true).keep.numel(), 1);
}

}  // namespace
}  // namespace cppdet::ops
