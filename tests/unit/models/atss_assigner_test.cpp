// ATSSAssigner against a plain-torch re-implementation of mmdet 2.25's ATSSAssigner.assign
// (per-level topk by centre distance, mean + std IoU threshold, centre inside the gt, highest
// IoU on conflicts), on a 3-level anchor grid with random gts; plus the config checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/models/registries.h"
#include "cppdet/models/task/anchor_generator.h"
#include "cppdet/models/task/atss_assigner.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

TEST(ATSSAssigner, MatchesPythonReimplementation) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "no python3 with torch";
  AnchorGeneratorOptions ao;
  ao.strides = {{8, 8}, {16, 16}, {32, 32}};
  ao.ratios = {1.0};
  ao.octave_base_scale = 8;
  ao.scales_per_octave = 1;
  const AnchorGenerator gen(ao);
  const std::vector<torch::Tensor> levels = gen.grid_priors({{12, 16}, {6, 8}, {3, 4}}, torch::kFloat32, torch::kCPU);
  const torch::Tensor anchors = torch::cat(levels);
  torch::manual_seed(7);
  const int64_t k = 6;
  const torch::Tensor xy = torch::rand({k, 2}) * torch::tensor({100.f, 70.f});
  const torch::Tensor wh = torch::rand({k, 2}) * 60 + 6;
  const torch::Tensor gt = torch::cat({xy, xy + wh}, 1);
  const torch::Tensor labels = torch::randint(0, 4, {k});
  const ATSSAssigner assigner(ATSSAssignerOptions{9, -1});
  const AssignResult r = assigner.assign(anchors, {levels[0].size(0), levels[1].size(0), levels[2].size(0)}, gt,
                                         torch::Tensor(), labels);

  const testing::TensorMap ref = testing::run_python_reference(R"(
import torch
from torchvision.ops import box_iou
b, gt, labels = inp['anchors'], inp['gt'], inp['labels']
nl = inp['num_level'].tolist()
INF = 100000000
ov = box_iou(b, gt)
M, K = b.shape[0], gt.shape[0]
gc = torch.stack(((gt[:, 0] + gt[:, 2]) / 2.0, (gt[:, 1] + gt[:, 3]) / 2.0), 1)
bx, by = (b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0
d = (torch.stack((bx, by), 1)[:, None, :] - gc[None]).pow(2).sum(-1).sqrt()
cand, s = [], 0
for n in nl:
    cand.append(d[s:s + n].topk(min(9, n), dim=0, largest=False)[1] + s)
    s += n
cand = torch.cat(cand)
co = ov[cand, torch.arange(K)]
pos = co >= (co.mean(0) + co.std(0))[None]
cand = cand + torch.arange(K) * M
ex = bx.view(1, -1).expand(K, M).reshape(-1)
ey = by.view(1, -1).expand(K, M).reshape(-1)
cx, cy = ex[cand].view(-1, K), ey[cand].view(-1, K)
inside = torch.stack([cx - gt[:, 0], cy - gt[:, 1], gt[:, 2] - cx, gt[:, 3] - cy], 1).min(1)[0] > 0.01
pos = pos & inside
oi = torch.full_like(ov, -INF).t().reshape(-1)
idx = cand.view(-1)[pos.view(-1)]
oi[idx] = ov.t().reshape(-1)[idx]
oi = oi.view(K, -1).t()
mx, am = oi.max(1)
gi = torch.zeros(M, dtype=torch.long)
gi[mx != -INF] = am[mx != -INF] + 1
out['gt_inds'] = gi
out['max_overlaps'] = mx
lab = torch.full((M,), -1, dtype=torch.long)
lab[gi > 0] = labels[gi[gi > 0] - 1]
out['labels'] = lab
)",
                                                               {{"anchors", anchors},
                                                                {"gt", gt},
                                                                {"labels", labels},
                                                                {"num_level", torch::tensor({levels[0].size(0), levels[1].size(0), levels[2].size(0)})}});
  ASSERT_GT((ref.at("gt_inds") > 0).sum().item<int64_t>(), 2 * k) << "too few positives to test anything";
  EXPECT_TRUE(torch::equal(r.gt_inds, ref.at("gt_inds")));
  EXPECT_TRUE(torch::allclose(r.max_overlaps, ref.at("max_overlaps"), 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(r.labels, ref.at("labels")));
  EXPECT_EQ(r.num_gts, k);
}

TEST(ATSSAssigner, NoGtAndConfigErrors) {
  const ATSSAssigner assigner(ATSSAssignerOptions{9, -1});
  const torch::Tensor anchors = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {5.f, 5.f, 20.f, 20.f}});
  const AssignResult r = assigner.assign(anchors, {2}, torch::zeros({0, 4}), torch::Tensor(), torch::zeros({0}, torch::kLong));
  EXPECT_TRUE(torch::equal(r.gt_inds, torch::zeros({2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(r.labels, torch::full({2}, -1, torch::kLong)));
  // Without per-level counts (a head that does not pass them) the assigner refuses.
  EXPECT_THROW(assigner.assign(anchors, torch::zeros({0, 4}), torch::Tensor(), torch::Tensor()), UserError);

  const config::Value cfg = config::parse_config_text(
      "a = dict(type='ATSSAssigner', topk=9, alpha=0.8)\nb = dict(type='ATSSAssigner', topk=9, foo=1)\n", "t.py");
  try {
    bbox_assigner_registry().build(cfg.as_dict().at("a"), "model.train_cfg.assigner");
    ADD_FAILURE() << "alpha accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.train_cfg.assigner.alpha"), std::string::npos) << e.what();
  }
  try {
    bbox_assigner_registry().build(cfg.as_dict().at("b"), "model.train_cfg.assigner");
    ADD_FAILURE() << "unknown key accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("foo"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cppdet::models
