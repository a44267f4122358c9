#pragma once
// mmdet 2.x L1Loss: |pred - target| element-wise, then weight / reduction / avg_factor
// (loss.h) and loss_weight. pred and target have the same shape; an empty target gives
// pred.sum() * 0. Config keys: reduction ('mean'), loss_weight (1.0).
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {

struct L1LossOptions {
  Reduction reduction = Reduction::kMean;
  double loss_weight = 1.0;

  static L1LossOptions from_config(const config::Value& cfg, const std::string& path);
};

class L1Loss : public Loss {
 public:
  explicit L1Loss(L1LossOptions options = {}) : options_(options) {}
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;

 private:
  L1LossOptions options_;
};

}  // namespace cppdet::models
