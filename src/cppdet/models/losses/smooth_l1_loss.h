#pragma once
// mmdet 2.x SmoothL1Loss: with d = |pred - target|, 0.5 * d^2 / beta where d < beta, else
// d - 0.5 * beta; then weight / reduction / avg_factor (loss.h) and loss_weight.
// Config keys: beta (1.0, must be > 0), reduction ('mean'), loss_weight (1.0).
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {

struct SmoothL1LossOptions {
  double beta = 1.0;
  Reduction reduction = Reduction::kMean;
  double loss_weight = 1.0;

  static SmoothL1LossOptions from_config(const config::Value& cfg, const std::string& path);
};

class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(SmoothL1LossOptions options = {}) : options_(options) {}
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;

 private:
  SmoothL1LossOptions options_;
};

}  // namespace cppdet::models
