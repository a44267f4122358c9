#pragma once
// mmdet 2.x FocalLoss (sigmoid, the pure-tensor py_sigmoid_focal_loss path): pred [N, C]
// logits, target [N] class ids (C = background gives an all-zero row) or an [N, C] one-hot.
// With p = sigmoid(pred) and t the one-hot target:
//   loss = BCE-with-logits(pred, t) * (alpha t + (1 - alpha)(1 - t)) * ((1 - p) t + p (1 - t))^gamma
// weight [N] is broadcast over the classes ([N, C] used as is); then reduction / avg_factor
// (loss.h) and loss_weight. Config keys: use_sigmoid (must be True), gamma (2.0),
// alpha (0.25), reduction ('mean'), loss_weight (1.0), activated (False: pred are logits;
// True: pred are probabilities).
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {

struct FocalLossOptions {
  double gamma = 2.0;
  double alpha = 0.25;
  Reduction reduction = Reduction::kMean;
  double loss_weight = 1.0;
  bool activated = false;

  static FocalLossOptions from_config(const config::Value& cfg, const std::string& path);
};

class FocalLoss : public Loss {
 public:
  explicit FocalLoss(FocalLossOptions options = {}) : options_(options) {}
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;

 private:
  FocalLossOptions options_;
};

}  // namespace cppdet::models
