// Soft-NMS (ops/soft_nms.h) against a hand-worked case and against a plain re-statement of
// mmcv's algorithm (keep the best remaining box, decay the rest, drop those below min_score)
// written here over a list of remaining boxes; and batched_nms with soft_nms (mmcv's
// batched_nms takes the decayed scores from its dets, in the single-run and the split path).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cppdet/core/error.h"
#include "cppdet/ops/nms.h"
#include "cppdet/ops/soft_nms.h"

namespace cppdet::ops {
namespace {

double iou(const std::vector<double>& a, const std::vector<double>& b) {
  const double w = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double h = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const double inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

struct Kept {
  std::vector<int64_t> index;
  std::vector<double> score;
};

Kept reference_soft_nms(const std::vector<std::vector<double>>& boxes, std::vector<double> scores, const SoftNmsOptions& o) {
  std::vector<int64_t> remaining(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) remaining[i] = static_cast<int64_t>(i);
  Kept kept;
  while (!remaining.empty()) {
    const auto best_it = std::max_element(remaining.begin(), remaining.end(),
                                          [&](int64_t a, int64_t b) { return scores[a] < scores[b]; });
    const int64_t best = *best_it;
    remaining.erase(best_it);
    kept.index.push_back(best);
    kept.score.push_back(scores[best]);
    std::vector<int64_t> next;
    for (int64_t r : remaining) {
      const double ov = iou(boxes[best], boxes[r]);
      double weight = 1;
      if (o.method == SoftNmsMethod::kLinear && ov >= o.iou_threshold) weight = 1 - ov;
      if (o.method == SoftNmsMethod::kNaive && ov >= o.iou_threshold) weight = 0;
      if (o.method == SoftNmsMethod::kGaussian) weight = std::exp(-ov * ov / o.sigma);
      scores[r] *= weight;
      if (scores[r] >= o.min_score) next.push_back(r);
    }
    remaining = next;
  }
  return kept;
}

torch::Tensor to_tensor(const std::vector<std::vector<double>>& boxes) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(boxes.size()), 4}, torch::kDouble);
  for (size_t i = 0; i < boxes.size(); ++i)
    for (int k = 0; k < 4; ++k) t[i][k] = boxes[i][k];
  return t;
}

const std::vector<std::vector<double>> kBoxes{{0, 0, 10, 10}, {0, 0, 10, 5}, {20, 20, 30, 30}, {1, 0, 11, 10}};
const std::vector<double> kScores{0.9, 0.8, 0.7, 0.6};

TEST(SoftNms, LinearAndGaussianHandWorked) {
  // A keeps 0.9; B (IoU 0.5 with A) -> 0.4; D (IoU 90/110 with A) -> 0.6 * 20/110; C (no
  // overlap) keeps 0.7 and goes next; then B; D (IoU 45/105 with B) decays once more.
  SoftNmsOptions o;
  o.iou_threshold = 0.3;
  o.min_score = 0.05;
  const SoftNmsResult r = soft_nms(to_tensor(kBoxes), torch::tensor(kScores, torch::kDouble), o);
  const double d = 0.6 * (20.0 / 110.0) * (60.0 / 105.0);
  ASSERT_EQ(r.keep.size(0), 4);
  EXPECT_EQ(std::vector<int64_t>(r.keep.data_ptr<int64_t>(), r.keep.data_ptr<int64_t>() + 4), (std::vector<int64_t>{0, 2, 1, 3}));
  const std::vector<double> expected{0.9, 0.7, 0.4, d};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(r.dets[i][4].item<double>(), expected[i], 1e-12) << i;
  EXPECT_TRUE(torch::equal(r.dets.narrow(1, 0, 4), to_tensor(kBoxes).index_select(0, r.keep)));

  // min_score 0.1: D survives its first decay (0.109) but not the second (0.062).
  o.min_score = 0.1;
  const SoftNmsResult r2 = soft_nms(to_tensor(kBoxes), torch::tensor(kScores, torch::kDouble), o);
  ASSERT_EQ(r2.keep.size(0), 3);
  EXPECT_EQ(r2.keep[2].item<int64_t>(), 1);

  // Gaussian, sigma 0.5.
  o.method = SoftNmsMethod::kGaussian;
  o.sigma = 0.5;
  o.min_score = 0.001;
  const SoftNmsResult r3 = soft_nms(to_tensor(kBoxes), torch::tensor(kScores, torch::kDouble), o);
  auto g = [](double ov) { return std::exp(-ov * ov / 0.5); };
  const double b = 0.8 * g(0.5);
  const double d_gaussian = 0.6 * g(90.0 / 110.0) * g(45.0 / 105.0);
  // C: 0.7 * g(0) = 0.7 > b = 0.485; D after A and B: 0.109.
  const std::vector<double> expected_gaussian{0.9, 0.7, b, d_gaussian};
  ASSERT_EQ(r3.keep.size(0), 4);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(r3.dets[i][4].item<double>(), expected_gaussian[i], 1e-12) << i;
}

TEST(SoftNms, MatchesTheReferenceEmptyInputAndBadShapes) {
  torch::manual_seed(7);
  for (SoftNmsMethod method : {SoftNmsMethod::kNaive, SoftNmsMethod::kLinear, SoftNmsMethod::kGaussian}) {
    SCOPED_TRACE(static_cast<int>(method));
    const int64_t n = 300;
    const torch::Tensor xy = torch::rand({n, 2}, torch::kDouble) * 100;
    const torch::Tensor wh = torch::rand({n, 2}, torch::kDouble) * 40 + 1;
    const torch::Tensor boxes = torch::cat({xy, xy + wh}, 1);
    const torch::Tensor scores = torch::rand({n}, torch::kDouble);  // distinct: no ties
    SoftNmsOptions o;
    o.method = method;
    o.iou_threshold = 0.4;
    o.min_score = 0.05;
    std::vector<std::vector<double>> b(n);
    for (int64_t i = 0; i < n; ++i) b[i] = {boxes[i][0].item<double>(), boxes[i][1].item<double>(), boxes[i][2].item<double>(), boxes[i][3].item<double>()};
    const Kept ref = reference_soft_nms(b, std::vector<double>(scores.data_ptr<double>(), scores.data_ptr<double>() + n), o);
    const SoftNmsResult r = soft_nms(boxes, scores, o);
    ASSERT_EQ(r.keep.size(0), static_cast<int64_t>(ref.index.size()));
    EXPECT_GT(r.keep.size(0), 20);
    for (size_t i = 0; i < ref.index.size(); ++i) {
      EXPECT_EQ(r.keep[i].item<int64_t>(), ref.index[i]) << i;
      EXPECT_NEAR(r.dets[i][4].item<double>(), ref.score[i], 1e-12) << i;
    }
    // float32 boxes make the same decisions here.
    const SoftNmsResult rf = soft_nms(boxes.to(torch::kFloat), scores.to(torch::kFloat), o);
    EXPECT_TRUE(torch::equal(rf.keep, r.keep));
    EXPECT_TRUE(rf.dets.allclose(r.dets.to(torch::kFloat), 1e-5, 1e-6));
  }
  const SoftNmsResult r = soft_nms(torch::zeros({0, 4}), torch::zeros({0}), SoftNmsOptions{});
  EXPECT_EQ(r.keep.size(0), 0);
  EXPECT_EQ(r.dets.sizes(), (std::vector<int64_t>{0, 5}));
  EXPECT_THROW(soft_nms(torch::zeros({3, 5}), torch::zeros({3}), SoftNmsOptions{}), c10::Error);
  EXPECT_THROW(soft_nms_method("cubic"), UserError);
}

TEST(BatchedSoftNms, DecayedScoresInBothPaths) {
  // Two classes with the same boxes: no decay across classes; within a class as soft_nms alone.
  const torch::Tensor boxes = torch::cat({to_tensor(kBoxes), to_tensor(kBoxes)}).to(torch::kFloat);
  const torch::Tensor scores = torch::cat({torch::tensor(kScores), torch::tensor(kScores) * 0.5}).to(torch::kFloat);
  const torch::Tensor idxs = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong);
  SoftNmsOptions o;
  o.iou_threshold = 0.3;
  o.min_score = 0.05;
  const SoftNmsResult one = soft_nms(boxes.narrow(0, 0, 4), scores.narrow(0, 0, 4), o);
  for (int64_t split_thr : {10000, 4}) {
    SCOPED_TRACE(split_thr);
    const BatchedNmsResult r = batched_nms(boxes, scores, idxs, 0.3, false, split_thr, o);
    // Class 1's scores are halved, so D of class 1 (0.6 * 0.5 decayed twice) falls below 0.05.
    ASSERT_EQ(r.keep.size(0), 7);
    // Sorted by decayed score; boxes are the original (un-offset) ones.
    const torch::Tensor s = r.dets.select(1, 4);
    EXPECT_TRUE(torch::equal(std::get<0>(s.sort(0, true)), s));
    EXPECT_TRUE(torch::equal(r.dets.narrow(1, 0, 4), boxes.index_select(0, r.keep)));
    for (int64_t i = 0; i < 4; ++i) {
      const int64_t pos = (r.keep == one.keep[i]).nonzero().item<int64_t>();
      EXPECT_FLOAT_EQ(s[pos].item<float>(), one.dets[i][4].item<float>());
    }
  }
}

}  // namespace
}  // namespace cppdet::ops
