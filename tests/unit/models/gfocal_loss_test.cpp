// QualityFocalLoss and DistributionFocalLoss against plain-torch re-implementations of mmdet
// 2.25's quality_focal_loss (the (labels, scores) form, which cppdet takes as the equivalent
// [N, C] score matrix) and distribution_focal_loss, with weights and avg_factor.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/config_file.h"
#include "cppdet/models/losses/gfocal_loss.h"
#include "cppdet/models/registries.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

std::shared_ptr<Loss> build_gfocal_loss(const std::string& text) {
  return loss_registry().build(config::parse_config_text("l = " + text, "t.py").as_dict().at("l"), "loss");
}

TEST(GFocalLosses, MatchPythonReimplementation) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "no python3 with torch";
  torch::manual_seed(9);
  const torch::Tensor logits = torch::randn({10, 4}, torch::requires_grad());
  const torch::Tensor labels = torch::tensor({0, 4, 2, 4, 3, 1, 4, 0, 4, 2});  // 4 = background
  const torch::Tensor scores = torch::rand({10}) * (labels < 4).to(torch::kFloat32);
  const torch::Tensor weights = torch::rand({10});
  torch::Tensor quality = torch::zeros({10, 4});
  const torch::Tensor pos = torch::nonzero(labels < 4).squeeze(1);
  quality.index_put_({pos, labels.index_select(0, pos)}, scores.index_select(0, pos));
  const torch::Tensor qfl = (*build_gfocal_loss("dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.5)"))(
      logits, quality, weights, 7.0);
  const torch::Tensor grad = torch::autograd::grad({qfl}, {logits})[0];

  const torch::Tensor dist_logits = torch::randn({12, 17});
  const torch::Tensor dist_targets = torch::rand({12}) * 15.9;
  const torch::Tensor dist_weights = torch::rand({12});
  const torch::Tensor dfl = (*build_gfocal_loss("dict(type='DistributionFocalLoss', loss_weight=0.25)"))(dist_logits, dist_targets,
                                                                                             dist_weights, 4.0);

  const testing::TensorMap ref = testing::run_python_reference(R"(
import torch.nn.functional as F
eps = float(torch.finfo(torch.float32).eps)
pred = inp['logits'].clone().requires_grad_()
label, score = inp['labels'], inp['scores']
sig = pred.sigmoid()
loss = F.binary_cross_entropy_with_logits(pred, torch.zeros_like(pred), reduction='none') * sig.pow(2.0)
pos = ((label >= 0) & (label < pred.size(1))).nonzero().squeeze(1)
pl = label[pos].long()
sf = score[pos] - sig[pos, pl]
loss[pos, pl] = F.binary_cross_entropy_with_logits(pred[pos, pl], score[pos], reduction='none') * sf.abs().pow(2.0)
q = 1.5 * (loss.sum(1) * inp['weights']).sum() / (7.0 + eps)
out['qfl'] = q
out['qfl_grad'] = torch.autograd.grad(q, pred)[0]
x, t = inp['dist_logits'], inp['dist_targets']
l = t.long()
r = l + 1
d = F.cross_entropy(x, l, reduction='none') * (r.float() - t) + F.cross_entropy(x, r, reduction='none') * (t - l.float())
out['dfl'] = 0.25 * (d * inp['dist_weights']).sum() / (4.0 + eps)
)",
                                                               {{"logits", logits.detach()},
                                                                {"labels", labels},
                                                                {"scores", scores},
                                                                {"weights", weights},
                                                                {"dist_logits", dist_logits},
                                                                {"dist_targets", dist_targets},
                                                                {"dist_weights", dist_weights}});
  EXPECT_NEAR(qfl.item<double>(), ref.at("qfl").item<double>(), 1e-6);
  EXPECT_TRUE(torch::allclose(grad, ref.at("qfl_grad"), 1e-5, 1e-7));
  EXPECT_NEAR(dfl.item<double>(), ref.at("dfl").item<double>(), 1e-6);
}

}  // namespace
}  // namespace cppdet::models
