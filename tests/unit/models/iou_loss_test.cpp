// IoULoss (log / linear / square) and GIoULoss against plain-torch re-implementations of
// mmdet 2.25's iou_loss / giou_loss (bbox_overlaps with its eps), with weights, avg_factor
// and the all-zero-weight shortcut; config errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/models/losses/iou_loss.h"
#include "cppdet/models/registries.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

std::shared_ptr<Loss> build_iou_loss(const std::string& text) {
  return loss_registry().build(config::parse_config_text("l = " + text, "t.py").as_dict().at("l"),
                               "model.bbox_head.loss_bbox");
}

TEST(IoULosses, MatchPythonReimplementation) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "no python3 with torch";
  torch::manual_seed(4);
  const torch::Tensor xy = torch::rand({9, 2}) * 50;
  const torch::Tensor pred = torch::cat({xy, xy + torch::rand({9, 2}) * 30 + 1}, 1);
  const torch::Tensor txy = xy + torch::randn({9, 2}) * 8;
  torch::Tensor target = torch::cat({txy, txy + torch::rand({9, 2}) * 30 + 1}, 1);
  target[3] = torch::tensor({200.f, 200.f, 210.f, 210.f});  // disjoint: IoU 0, clamped to eps
  const torch::Tensor weights = torch::rand({9});
  testing::TensorMap got;
  got["log"] = (*build_iou_loss("dict(type='IoULoss', loss_weight=1.0)"))(pred, target, weights, 3.5);
  got["linear"] = (*build_iou_loss("dict(type='IoULoss', linear=True, loss_weight=2.0)"))(pred, target, weights);
  got["square"] = (*build_iou_loss("dict(type='IoULoss', mode='square', eps=1e-4)"))(pred, target);
  got["giou"] = (*build_iou_loss("dict(type='GIoULoss', loss_weight=2.0)"))(pred, target, weights, 1.0);
  got["giou_sum"] = (*build_iou_loss("dict(type='GIoULoss', reduction='sum')"))(pred, target, weights.unsqueeze(1).expand({9, 4}));
  got["zero_weight"] = (*build_iou_loss("dict(type='GIoULoss', loss_weight=2.0)"))(pred, target, torch::zeros({9}), 1.0);

  const testing::TensorMap ref = testing::run_python_reference(R"(
eps = float(torch.finfo(torch.float32).eps)
p, t, w = inp['pred'], inp['target'], inp['weights']
def overlaps(a, b, e=1e-6, giou=False):
    area1 = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area2 = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    wh = (torch.min(a[:, 2:], b[:, 2:]) - torch.max(a[:, :2], b[:, :2])).clamp(min=0)
    ov = wh[:, 0] * wh[:, 1]
    union = torch.max(area1 + area2 - ov, torch.tensor([e]))
    ious = ov / union
    if not giou:
        return ious
    ewh = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0)
    ea = torch.max(ewh[:, 0] * ewh[:, 1], torch.tensor([e]))
    return ious - (ea - union) / ea
out['log'] = (-overlaps(p, t).clamp(min=1e-6).log() * w).sum() / (3.5 + eps)
out['linear'] = 2.0 * ((1 - overlaps(p, t).clamp(min=1e-6)) * w).mean()
out['square'] = (1 - overlaps(p, t).clamp(min=1e-4) ** 2).mean()
out['giou'] = 2.0 * ((1 - overlaps(p, t, giou=True)) * w).sum() / (1.0 + eps)
out['giou_sum'] = ((1 - overlaps(p, t, giou=True)) * w).sum()
out['zero_weight'] = torch.tensor(0.0)
)",
                                                               {{"pred", pred}, {"target", target}, {"weights", weights}});
  for (const auto& [name, value] : got) EXPECT_NEAR(value.item<double>(), ref.at(name).item<double>(), 2e-6) << name;
}

TEST(IoULosses, ConfigErrorsNameTheKey) {
  try {
    build_iou_loss("dict(type='IoULoss', mode='cube')");
    ADD_FAILURE() << "mode accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.bbox_head.loss_bbox.mode"), std::string::npos) << e.what();
  }
  EXPECT_THROW(build_iou_loss("dict(type='GIoULoss', mode='log')"), ConfigError);  // GIoULoss has no mode
}

}  // namespace
}  // namespace cppdet::models
