// MaxIoUAssigner on hand-computed cases (IoUs of axis-aligned boxes chosen to be 1, 0.5, 0)
// and the samplers: counts, ordering, gt-as-proposal, neg_pos_ub, and RandomSampler's
// randperm draws against python3-torch with the same seed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/value.h"
#include "cppdet/core/error.h"
#include "cppdet/models/registries.h"
#include "cppdet/models/task/max_iou_assigner.h"
#include "cppdet/models/task/pseudo_sampler.h"
#include "cppdet/models/task/random_sampler.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

std::vector<int64_t> vec(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

MaxIoUAssignerOptions rpn_like() {
  MaxIoUAssignerOptions o;
  o.pos_iou_thr = 0.7;
  o.neg_iou_hi = 0.3;
  o.min_pos_iou = 0.3;
  o.match_low_quality = true;
  return o;
}

// gt 0 = [0,0,10,10], gt 1 = [20,20,30,30]. Candidates: exact gt 0 (IoU 1), the top half of
// gt 0 (0.5), far away (0), two halves of gt 1 (0.5 each: gt 1's best, a tie).
const torch::Tensor kGts = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {20.f, 20.f, 30.f, 30.f}});
const torch::Tensor kBoxes = torch::tensor({{0.f, 0.f, 10.f, 10.f},
                                            {0.f, 0.f, 10.f, 5.f},
                                            {100.f, 100.f, 110.f, 110.f},
                                            {20.f, 20.f, 30.f, 25.f},
                                            {20.f, 25.f, 30.f, 30.f}});

TEST(MaxIoUAssigner, ThresholdsAndLowQualityMatches) {
  const MaxIoUAssigner assigner(rpn_like());
  const AssignResult r = assigner.assign(kBoxes, kGts, {}, torch::tensor({3, 7}));
  // Box 1 (IoU 0.5 with gt 0) stays ignored: gt 0's best is box 0 (1.0), so no low-quality match.
  EXPECT_EQ(vec(r.gt_inds), (std::vector<int64_t>{1, -1, 0, 2, 2}));
  EXPECT_EQ(vec(r.labels), (std::vector<int64_t>{3, -1, -1, 7, 7}));
  EXPECT_EQ(r.num_gts, 2);
  EXPECT_TRUE(torch::allclose(r.max_overlaps, torch::tensor({1.f, 0.5f, 0.f, 0.5f, 0.5f})));
  EXPECT_EQ(r.num_pos(), 3);
}

TEST(MaxIoUAssigner, OnlyFirstArgmaxWithoutGtMaxAssignAll) {
  MaxIoUAssignerOptions o = rpn_like();
  o.gt_max_assign_all = false;
  EXPECT_EQ(vec(MaxIoUAssigner(o).assign(kBoxes, kGts, {}, {}).gt_inds), (std::vector<int64_t>{1, -1, 0, 2, -1}));
  o.match_low_quality = false;
  const AssignResult r = MaxIoUAssigner(o).assign(kBoxes, kGts, {}, {});
  EXPECT_EQ(vec(r.gt_inds), (std::vector<int64_t>{1, -1, 0, -1, -1}));
  EXPECT_FALSE(r.labels.defined());
  o.min_pos_iou = 0.6;  // gt 1's best IoU (0.5) is too low for a low-quality match
  o.match_low_quality = true;
  EXPECT_EQ(vec(MaxIoUAssigner(o).assign(kBoxes, kGts, {}, {}).gt_inds), (std::vector<int64_t>{1, -1, 0, -1, -1}));
}

TEST(MaxIoUAssigner, NegativeRangeAndIgnoreBoxes) {
  MaxIoUAssignerOptions o = rpn_like();
  o.neg_iou_lo = 0.1;  // neg_iou_thr=(0.1, 0.3): IoU 0 is not negative
  EXPECT_EQ(vec(MaxIoUAssigner(o).assign(kBoxes, kGts, {}, {}).gt_inds), (std::vector<int64_t>{1, -1, -1, 2, 2}));
  o = rpn_like();
  o.ignore_iof_thr = 0.5;  // box 2 lies inside the ignore region
  const torch::Tensor ignore = torch::tensor({{95.f, 95.f, 120.f, 120.f}});
  EXPECT_EQ(vec(MaxIoUAssigner(o).assign(kBoxes, kGts, ignore, {}).gt_inds), (std::vector<int64_t>{1, -1, -1, 2, 2}));
  // A score column is ignored.
  const torch::Tensor with_scores = torch::cat({kBoxes, torch::ones({5, 1})}, 1);
  EXPECT_EQ(vec(MaxIoUAssigner(rpn_like()).assign(with_scores, kGts, {}, {}).gt_inds),
            (std::vector<int64_t>{1, -1, 0, 2, 2}));
}

TEST(MaxIoUAssigner, EmptyInputs) {
  const MaxIoUAssigner assigner(rpn_like());
  const AssignResult no_gt = assigner.assign(kBoxes, torch::zeros({0, 4}), {}, torch::zeros({0}, torch::kLong));
  EXPECT_EQ(vec(no_gt.gt_inds), (std::vector<int64_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(vec(no_gt.labels), (std::vector<int64_t>{-1, -1, -1, -1, -1}));
  EXPECT_EQ(assigner.assign(torch::zeros({0, 4}), kGts, {}, {}).gt_inds.numel(), 0);
}

TEST(MaxIoUAssigner, FromConfig) {
  config::Dict d;
  d.set("type", "MaxIoUAssigner");
  d.set("pos_iou_thr", 0.7);
  d.set("neg_iou_thr", config::Value::list({0.1, 0.3}));
  d.set("min_pos_iou", 0.3);
  d.set("ignore_iof_thr", -1);
  const auto a = bbox_assigner_registry().build(d, "train_cfg.rpn.assigner");
  EXPECT_EQ(vec(a->assign(kBoxes, kGts, {}, {}).gt_inds), (std::vector<int64_t>{1, -1, -1, 2, 2}));
  d.set("neg_iou_thr", "low");
  try {
    bbox_assigner_registry().build(d, "train_cfg.rpn.assigner");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train_cfg.rpn.assigner.neg_iou_thr"), std::string::npos) << e.what();
  }
}

// 100 candidates: 30 positives (indices 0, 3, 6, ...), 10 ignored, the rest negative.
AssignResult make_assignment() {
  AssignResult r;
  r.num_gts = 3;
  r.gt_inds = torch::zeros({100}, torch::kLong);
  for (int64_t i = 0; i < 30; ++i) r.gt_inds[i * 3] = i % 3 + 1;
  for (int64_t i = 0; i < 10; ++i) r.gt_inds[i * 3 + 1] = -1;
  r.max_overlaps = torch::zeros({100});
  r.labels = torch::where(r.gt_inds > 0, r.gt_inds + 10, torch::full({100}, -1, torch::kLong));
  return r;
}

TEST(RandomSampler, CountsOrderAndTargets) {
  const torch::Tensor boxes = torch::rand({100, 4}) * 50 + torch::tensor({0.f, 0.f, 60.f, 60.f});
  const torch::Tensor gts = torch::tensor({{1.f, 1.f, 70.f, 70.f}, {2.f, 2.f, 80.f, 80.f}, {3.f, 3.f, 90.f, 90.f}});
  RandomSamplerOptions o;
  o.num = 32;
  o.pos_fraction = 0.25;
  o.add_gt_as_proposals = false;
  RandomSampler sampler(o);
  AssignResult a = make_assignment();
  const SamplingResult s = sampler.sample(a, boxes, gts, {});
  ASSERT_EQ(s.pos_inds.numel(), 8);
  ASSERT_EQ(s.neg_inds.numel(), 24);
  EXPECT_TRUE(torch::equal(s.pos_inds, std::get<0>(s.pos_inds.sort())));
  EXPECT_TRUE((a.gt_inds.index_select(0, s.pos_inds) > 0).all().item<bool>());
  EXPECT_TRUE((a.gt_inds.index_select(0, s.neg_inds) == 0).all().item<bool>());
  EXPECT_TRUE(torch::equal(s.pos_bboxes, boxes.index_select(0, s.pos_inds)));
  EXPECT_TRUE(torch::equal(s.pos_gt_bboxes, gts.index_select(0, a.gt_inds.index_select(0, s.pos_inds) - 1)));
  EXPECT_TRUE(torch::equal(s.pos_gt_labels, a.gt_inds.index_select(0, s.pos_inds) + 10));
  EXPECT_EQ(s.bboxes().size(0), 32);

  o.neg_pos_ub = 2;  // at most 2 negatives per positive
  RandomSampler capped(o);
  AssignResult a2 = make_assignment();
  EXPECT_EQ(capped.sample(a2, boxes, gts, {}).neg_inds.numel(), 16);
}

TEST(RandomSampler, GtBoxesArePrependedAsPositives) {
  RandomSamplerOptions o;
  o.num = 1000;  // everything fits: no random draws
  o.pos_fraction = 0.25;
  o.add_gt_as_proposals = true;
  RandomSampler sampler(o);
  AssignResult a = make_assignment();
  const torch::Tensor boxes = torch::rand({100, 5});
  const torch::Tensor gts = torch::rand({3, 4});
  const SamplingResult s = sampler.sample(a, boxes, gts, torch::tensor({4, 5, 6}));
  EXPECT_EQ(a.gt_inds.numel(), 103);
  ASSERT_EQ(s.pos_inds.numel(), 33);
  EXPECT_EQ(vec(s.pos_inds.narrow(0, 0, 3)), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(vec(s.pos_is_gt.narrow(0, 0, 4)), (std::vector<int64_t>{1, 1, 1, 0}));
  EXPECT_EQ(vec(s.pos_gt_labels.narrow(0, 0, 3)), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_TRUE(torch::equal(s.pos_bboxes.narrow(0, 0, 3), gts));
  EXPECT_EQ(s.neg_inds.numel(), 60);
  EXPECT_THROW(RandomSampler(o).sample(a, boxes, gts, {}), UserError);  // labels needed
}

TEST(RandomSampler, DrawsMatchPythonRandpermWithTheSameSeed) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch is not available";
  RandomSamplerOptions o;
  o.num = 32;
  o.pos_fraction = 0.25;
  o.add_gt_as_proposals = false;
  RandomSampler sampler(o);
  AssignResult a = make_assignment();
  const torch::Tensor boxes = torch::zeros({100, 4}), gts = torch::zeros({3, 4});
  torch::manual_seed(7);
  const SamplingResult s = sampler.sample(a, boxes, gts, {});
  const auto ref = testing::run_python_reference(R"(
g = inp['gt_inds']
torch.manual_seed(7)
pos = torch.nonzero(g > 0).squeeze(1)
pos = pos[torch.randperm(pos.numel())[:8]].unique()
neg = torch.nonzero(g == 0).squeeze(1)
neg = neg[torch.randperm(neg.numel())[:24]].unique()
out['pos'] = pos
out['neg'] = neg
)",
                                                 {{"gt_inds", make_assignment().gt_inds}});
  EXPECT_EQ(vec(s.pos_inds), vec(ref.at("pos")));
  EXPECT_EQ(vec(s.neg_inds), vec(ref.at("neg")));
}

TEST(PseudoSampler, KeepsEveryPositiveAndNegative) {
  PseudoSampler sampler;
  AssignResult a = make_assignment();
  const SamplingResult s = sampler.sample(a, torch::rand({100, 4}), torch::rand({3, 4}), {});
  EXPECT_EQ(s.pos_inds.numel(), 30);
  EXPECT_EQ(s.neg_inds.numel(), 60);
  EXPECT_FALSE(sampler.is_sampling());
  EXPECT_EQ(s.pos_is_gt.sum().item<int64_t>(), 0);
}

}  // namespace
}  // namespace cppdet::models
