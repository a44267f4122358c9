#pragma once
// mmdet 2.x IoULoss and GIoULoss on aligned box pairs pred [N, 4], target [N, 4] (x1 y1 x2 y2):
//   IoULoss:  iou = bbox_overlaps(pred, target, aligned).clamp(min=eps), then per box
//             'log': -log(iou), 'linear': 1 - iou, 'square': 1 - iou^2;
//   GIoULoss: 1 - giou (bbox_overlaps mode 'giou', eps).
// Then weight [N] (an [N, 4] weight is averaged over its last dimension) / reduction /
// avg_factor (loss.h) and loss_weight. When a weight is given and none of it is > 0 the loss
// is (pred * weight).sum() (0, still connected to pred; IoULoss only for reduction != 'none').
// Config keys: IoULoss mode ('log'), linear (False; True means mode 'linear'), eps (1e-6),
// reduction ('mean'), loss_weight (1.0); GIoULoss eps, reduction, loss_weight.
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {

struct IoULossOptions {
  bool giou = false;         // GIoULoss
  std::string mode = "log";  // IoULoss: 'log' | 'linear' | 'square'
  double eps = 1e-6;
  Reduction reduction = Reduction::kMean;
  double loss_weight = 1.0;

  // `type` is "IoULoss" or "GIoULoss".
  static IoULossOptions from_config(const config::Value& cfg, const std::string& path, const std::string& type);
};

class IoULoss : public Loss {
 public:
  explicit IoULoss(IoULossOptions options = {}) : options_(std::move(options)) {}
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;

 private:
  IoULossOptions options_;
};

}  // namespace cppdet::models
