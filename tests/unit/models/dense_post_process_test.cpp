// The shared dense-head test-time steps, hand-computed: filter_scores_and_topk (strict
// threshold, (prior, class) pairs, the nms_pre cut, Python slicing of -1) and
// bbox_post_process (rescale, score factors after the filter, class-aware NMS, max_per_img).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/models/dense_heads/dense_post_process.h"

namespace cppdet::models {
namespace {

TEST(FilterScoresAndTopk, StrictThresholdPairsAndNmsPre) {
  // 3 priors x 2 classes.
  const torch::Tensor scores = torch::tensor({{0.9f, 0.05f}, {0.3f, 0.7f}, {0.06f, 0.8f}});
  LevelCandidates c = filter_scores_and_topk(scores, 0.05, 1000);
  EXPECT_TRUE(torch::equal(c.scores, torch::tensor({0.9f, 0.8f, 0.7f, 0.3f, 0.06f})));  // 0.05 itself is dropped
  EXPECT_TRUE(torch::equal(c.keep_idxs, torch::tensor({0, 2, 1, 1, 2})));
  EXPECT_TRUE(torch::equal(c.labels, torch::tensor({0, 1, 1, 0, 0})));
  c = filter_scores_and_topk(scores, 0.05, 2);  // nms_pre counts pairs, not priors
  EXPECT_TRUE(torch::equal(c.keep_idxs, torch::tensor({0, 2})));
  c = filter_scores_and_topk(scores, 0.05, -1);  // absent nms_pre: mmdet's [:-1] drops the last
  EXPECT_EQ(c.scores.size(0), 4);
}

TEST(BboxPostProcess, RescaleFactorsNmsAndMaxPerImg) {
  ImageMeta meta;
  meta.scale_factor = {2.f, 2.f, 2.f, 2.f};
  DenseTestConfig cfg;
  cfg.nms.iou_threshold = 0.5;
  cfg.max_per_img = 2;
  // Level 0: two overlapping boxes of class 0 and one of class 1; level 1: one box.
  const std::vector<torch::Tensor> boxes{torch::tensor({{0.f, 0.f, 20.f, 20.f}, {2.f, 2.f, 20.f, 20.f}, {0.f, 0.f, 20.f, 20.f}}),
                                         torch::tensor({{40.f, 40.f, 60.f, 60.f}})};
  const std::vector<torch::Tensor> scores{torch::tensor({0.9f, 0.8f, 0.7f}), torch::tensor({0.6f})};
  const std::vector<torch::Tensor> labels{torch::tensor({0, 0, 1}), torch::tensor({0})};
  // The factors reorder the candidates: 0.9*0.5, 0.8*1, 0.7*1, 0.6*0.9.
  const std::vector<torch::Tensor> factors{torch::tensor({0.5f, 1.f, 1.f}), torch::tensor({0.9f})};
  const Detections d = bbox_post_process(boxes, scores, labels, factors, meta, cfg, /*rescale=*/true);
  // Box 1 (0.8, class 0) suppresses box 0; box 2 is class 1 (kept); max_per_img cuts box 3.
  ASSERT_EQ(d.bboxes.size(0), 2);
  EXPECT_TRUE(torch::allclose(d.bboxes, torch::tensor({{1.f, 1.f, 10.f, 10.f, 0.8f}, {0.f, 0.f, 10.f, 10.f, 0.7f}})));
  EXPECT_TRUE(torch::equal(d.labels, torch::tensor({0, 1})));
}

}  // namespace
}  // namespace cppdet::models
