#pragma once
// The two losses of Generalized Focal Loss (GFL), mmdet 2.x:
//
// QualityFocalLoss: pred [N, C] logits, target [N, C] soft targets in [0, 1] (the IoU score
// of a positive at its class, 0 elsewhere; mmdet passes (labels, scores), which is the same
// matrix). With s = sigmoid(pred), per element
//   BCE-with-logits(pred, target) * |target - s|^beta        (activated: pred are s already)
// summed over the classes -> [N]; then weight [N] / reduction / avg_factor (loss.h) and
// loss_weight. Config keys: use_sigmoid (must be True), beta (2.0), reduction ('mean'),
// loss_weight (1.0), activated (False).
//
// DistributionFocalLoss: pred [N, n + 1] logits over the integer bins 0..n, target [N] float
// distances in [0, n): with l = floor(target), the cross entropy to bins l and l + 1 weighted
// by (l + 1 - target) and (target - l) -> [N]; then weight / reduction / avg_factor and
// loss_weight. Config keys: reduction ('mean'), loss_weight (1.0).
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {

struct QualityFocalLossOptions {
  double beta = 2.0;
  Reduction reduction = Reduction::kMean;
  double loss_weight = 1.0;
  bool activated = false;

  static QualityFocalLossOptions from_config(const config::Value& cfg, const std::string& path);
};

class QualityFocalLoss : public Loss {
 public:
  explicit QualityFocalLoss(QualityFocalLossOptions options = {}) : options_(options) {}
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;

 private:
  QualityFocalLossOptions options_;
};

struct DistributionFocalLossOptions {
  Reduction reduction = Reduction::kMean;
  double loss_weight = 1.0;

  static DistributionFocalLossOptions from_config(const config::Value& cfg, const std::string& path);
};

class DistributionFocalLoss : public Loss {
 public:
  explicit DistributionFocalLoss(DistributionFocalLossOptions options = {}) : options_(options) {}
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;

 private:
  DistributionFocalLossOptions options_;
};

}  // namespace cppdet::models
