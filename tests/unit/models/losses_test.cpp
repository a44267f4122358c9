// Training losses against python3-torch references written from mmdet 2.x's documented
// semantics (weight, reduction, avg_factor + float32 eps, loss_weight), plus the config
// registry and error messages.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "cppdet/config/value.h"
#include "cppdet/core/error.h"
#include "cppdet/models/losses/accuracy.h"
#include "cppdet/models/losses/cross_entropy_loss.h"
#include "cppdet/models/losses/focal_loss.h"
#include "cppdet/models/losses/l1_loss.h"
#include "cppdet/models/losses/smooth_l1_loss.h"
#include "cppdet/models/registries.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

config::Value dict(std::initializer_list<std::pair<const char*, config::Value>> items) {
  config::Dict d;
  for (const auto& [k, v] : items) d.set(k, v);
  return d;
}

std::shared_ptr<Loss> build(const config::Value& cfg) { return loss_registry().build(cfg, "loss"); }

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  EXPECT_TRUE(torch::allclose(got.to(torch::kFloat64), want.to(torch::kFloat64), 1e-5, 1e-6))
      << what << ": got " << got << " want " << want;
}

class LossesVsPython : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::python_torchvision_available()) return;
    torch::manual_seed(3);
    inputs_["logits"] = torch::randn({12, 5});
    inputs_["labels"] = torch::tensor({0, 1, 2, 3, 4, 4, 1, 0, 2, 3, 4, 1});
    inputs_["weights"] = torch::rand({12});
    inputs_["sig_logits"] = torch::randn({12, 3});
    inputs_["mask_logits"] = torch::randn({4, 3, 6, 6});
    inputs_["mask_targets"] = (torch::rand({4, 6, 6}) > 0.5).to(torch::kFloat32);
    inputs_["mask_labels"] = torch::tensor({2, 0, 1, 2});
    inputs_["pred"] = torch::randn({10, 4});
    inputs_["target"] = torch::randn({10, 4});
    inputs_["box_weights"] = (torch::rand({10, 4}) > 0.3).to(torch::kFloat32);
    // References: plain torch formulas, mmdet's reduction rule written out.
    outputs_ = testing::run_python_reference(R"(
import torch.nn.functional as F
eps = float(torch.finfo(torch.float32).eps)
x, y, w = inp['logits'], inp['labels'], inp['weights']
out['ce_avg'] = (F.cross_entropy(x, y, reduction='none') * w).sum() / (7.0 + eps)
out['ce_mean'] = 2.0 * F.cross_entropy(x, y, reduction='none').mean()
cw = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
out['ce_class_weight_sum'] = F.cross_entropy(x, y, weight=cw, reduction='none').sum()
ig = y.clone(); ig[:3] = 4
out['ce_ignore_non_ignore'] = F.cross_entropy(x, ig, ignore_index=4, reduction='none').sum() / (float((ig != 4).sum()) + eps)
s = inp['sig_logits']
onehot = torch.zeros(12, 3); valid = y < 3
onehot[valid, y[valid]] = 1
out['bce_avg'] = (F.binary_cross_entropy_with_logits(s, onehot, reduction='none') * w[:, None]).sum() / (5.0 + eps)
m = inp['mask_logits']
out['mask'] = F.binary_cross_entropy_with_logits(m[torch.arange(4), inp['mask_labels']], inp['mask_targets'])
p, t, bw = inp['pred'], inp['target'], inp['box_weights']
out['l1_avg'] = ((p - t).abs() * bw).sum() / (4.0 + eps)
out['l1_sum'] = 3.0 * (p - t).abs().sum()
out['l1_none'] = (p - t).abs() * bw
d = (p - t).abs(); beta = 1.0 / 9.0
out['smooth_avg'] = (torch.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta) * bw).sum() / (6.0 + eps)
out['focal_avg'] = torchvision.ops.sigmoid_focal_loss(s, onehot, alpha=0.25, gamma=2.0, reduction='none').mul(w[:, None]).sum() / (3.0 + eps)
out['acc'] = (x.argmax(1) == y).float().sum() * (100.0 / 12)
)",
                                             inputs_);
  }
  void SetUp() override {
    if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision is not available";
  }
  static testing::TensorMap inputs_, outputs_;
};
testing::TensorMap LossesVsPython::inputs_, LossesVsPython::outputs_;

TEST_F(LossesVsPython, SoftmaxCrossEntropy) {
  const auto ce = build(dict({{"type", "CrossEntropyLoss"}, {"use_sigmoid", false}, {"loss_weight", 1.0}}));
  expect_close((*ce)(inputs_["logits"], inputs_["labels"], inputs_["weights"], 7.0), outputs_["ce_avg"], "avg_factor");
  const auto ce2 = build(dict({{"type", "CrossEntropyLoss"}, {"loss_weight", 2.0}}));
  expect_close((*ce2)(inputs_["logits"], inputs_["labels"]), outputs_["ce_mean"], "mean x loss_weight");
  const auto cw = build(dict({{"type", "CrossEntropyLoss"},
                              {"class_weight", config::Value::list({1.0, 2.0, 0.5, 1.0, 3.0})},
                              {"reduction", "sum"}}));
  expect_close((*cw)(inputs_["logits"], inputs_["labels"]), outputs_["ce_class_weight_sum"], "class_weight");
  torch::Tensor ignored = inputs_["labels"].clone();
  ignored.narrow(0, 0, 3).fill_(4);
  const auto ig = build(dict({{"type", "CrossEntropyLoss"}, {"ignore_index", 4}, {"avg_non_ignore", true}}));
  expect_close((*ig)(inputs_["logits"], ignored), outputs_["ce_ignore_non_ignore"], "avg_non_ignore");
}

TEST_F(LossesVsPython, SigmoidCrossEntropyExpandsLabelsToOneHot) {
  // Labels 3 and 4 are >= the 3 channels (background): all-zero target rows.
  const auto bce = build(dict({{"type", "CrossEntropyLoss"}, {"use_sigmoid", true}}));
  expect_close((*bce)(inputs_["sig_logits"], inputs_["labels"], inputs_["weights"], 5.0), outputs_["bce_avg"], "bce");
}

TEST_F(LossesVsPython, MaskCrossEntropyUsesTheLabelChannel) {
  const auto mask = build(dict({{"type", "CrossEntropyLoss"}, {"use_mask", true}, {"loss_weight", 1.0}}));
  expect_close((*mask)(inputs_["mask_logits"], inputs_["mask_targets"], inputs_["mask_labels"]), outputs_["mask"], "mask");
}

TEST_F(LossesVsPython, L1AndSmoothL1) {
  const torch::Tensor& p = inputs_["pred"];
  const torch::Tensor& t = inputs_["target"];
  const torch::Tensor& w = inputs_["box_weights"];
  const auto l1 = build(dict({{"type", "L1Loss"}, {"loss_weight", 1.0}}));
  expect_close((*l1)(p, t, w, 4.0), outputs_["l1_avg"], "l1 avg_factor");
  expect_close((*l1)(p, t, w, std::nullopt, Reduction::kNone), outputs_["l1_none"], "l1 none");
  const auto l1_sum = build(dict({{"type", "L1Loss"}, {"reduction", "sum"}, {"loss_weight", 3.0}}));
  expect_close((*l1_sum)(p, t), outputs_["l1_sum"], "l1 sum");
  EXPECT_THROW((*l1_sum)(p, t, w, 4.0), std::invalid_argument);  // avg_factor with sum
  const auto smooth = build(dict({{"type", "SmoothL1Loss"}, {"beta", 1.0 / 9.0}}));
  expect_close((*smooth)(p, t, w, 6.0), outputs_["smooth_avg"], "smooth l1");
  EXPECT_EQ((*l1)(torch::zeros({0, 4}), torch::zeros({0, 4}), torch::zeros({0, 4}), 1.0).item<float>(), 0.0f);
}

TEST_F(LossesVsPython, FocalLossMatchesTorchvision) {
  const auto focal = build(dict({{"type", "FocalLoss"}, {"use_sigmoid", true}, {"gamma", 2.0}, {"alpha", 0.25}}));
  // Class ids must be <= C (C = background), as for mmdet's one_hot(num_classes + 1).
  const torch::Tensor labels = inputs_["labels"].clamp_max(3);
  expect_close((*focal)(inputs_["sig_logits"], labels, inputs_["weights"], 3.0), outputs_["focal_avg"], "focal");
}

TEST_F(LossesVsPython, AccuracyIsAPercentage) {
  expect_close(accuracy(inputs_["logits"], inputs_["labels"]), outputs_["acc"], "acc");
  EXPECT_EQ(accuracy(torch::zeros({0, 3}), torch::zeros({0}, torch::kLong)).item<float>(), 0.0f);
}

TEST(Losses, AvgFactorAddsFloat32Epsilon) {
  const torch::Tensor loss = torch::tensor({1.0f, 2.0f, 3.0f});
  const double eps = std::numeric_limits<float>::epsilon();
  EXPECT_FLOAT_EQ(weight_reduce_loss(loss, {}, Reduction::kMean, 2.0).item<float>(), static_cast<float>(6.0 / (2.0 + eps)));
  EXPECT_FLOAT_EQ(weight_reduce_loss(loss, torch::tensor({1.0f, 0.0f, 1.0f}), Reduction::kSum, std::nullopt).item<float>(), 4.0f);
  EXPECT_TRUE(torch::equal(weight_reduce_loss(loss, {}, Reduction::kNone, 5.0), loss));
}

TEST(Losses, ConfigErrorsNameTheKey) {
  try {
    loss_registry().build(dict({{"type", "L1Loss"}, {"reduction", "avg"}}), "model.rpn_head.loss_bbox");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.rpn_head.loss_bbox.reduction"), std::string::npos) << e.what();
  }
  EXPECT_THROW(loss_registry().build(dict({{"type", "GIoULossX"}}), "loss"), ConfigError);
  EXPECT_THROW(loss_registry().build(dict({{"type", "SmoothL1Loss"}, {"beta", 0.0}}), "loss"), ConfigError);
  EXPECT_THROW(loss_registry().build(dict({{"type", "CrossEntropyLoss"}, {"use_sigmoid", true}, {"use_mask", true}}), "loss"),
               ConfigError);
  EXPECT_THROW(loss_registry().build(dict({{"type", "L1Loss"}, {"betta", 1.0}}), "loss"), ConfigError);
}

TEST(Losses, UserLossRegistersLikeBuiltins) {
  struct DoubleL1 : Loss {
    torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor&,
                          std::optional<double>, std::optional<Reduction>) const override {
      return 2 * (pred - target).abs().sum();
    }
  };
  if (!loss_registry().contains("DoubleL1"))
    loss_registry().add("DoubleL1", [](const BuildContext&) -> std::shared_ptr<Loss> { return std::make_shared<DoubleL1>(); });
  const auto loss = build(dict({{"type", "DoubleL1"}}));
  EXPECT_FLOAT_EQ((*loss)(torch::ones({2}), torch::zeros({2})).item<float>(), 4.0f);
}

}  // namespace
}  // namespace cppdet::models
