#include "cppdet/models/losses/focal_loss.h"

#include <torch/nn/functional/loss.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

FocalLossOptions FocalLossOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  FocalLossOptions o;
  if (!r.get_bool("use_sigmoid", true))
    throw ConfigError(r.path_of("use_sigmoid") + ": only the sigmoid focal loss is supported");
  o.gamma = r.get_number("gamma", 2.0);
  o.alpha = r.get_number("alpha", 0.25);
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  o.loss_weight = r.get_number("loss_weight", 1.0);
  o.activated = r.get_bool("activated", false);
  r.finish();
  return o;
}

torch::Tensor FocalLoss::forward(const torch::Tensor& pred, const torch::Tensor& target_in, const torch::Tensor& weight_in,
                                 std::optional<double> avg_factor, std::optional<Reduction> reduction_override) const {
  namespace F = torch::nn::functional;
  torch::Tensor target = target_in;
  if (target.dim() == 1) {  // class ids -> one-hot without the background column
    const int64_t num_classes = pred.size(1);
    target = torch::one_hot(target.to(torch::kLong), num_classes + 1).narrow(1, 0, num_classes);
  }
  target = target.to(pred.scalar_type());
  torch::Tensor loss;
  if (options_.activated) {  // py_focal_loss_with_prob
    const torch::Tensor pt = (1 - pred) * target + pred * (1 - target);
    const torch::Tensor focal_weight = (options_.alpha * target + (1 - options_.alpha) * (1 - target)) * pt.pow(options_.gamma);
    loss = F::binary_cross_entropy(pred, target, F::BinaryCrossEntropyFuncOptions().reduction(torch::kNone)) * focal_weight;
  } else {  // py_sigmoid_focal_loss
    const torch::Tensor p = pred.sigmoid();
    const torch::Tensor pt = (1 - p) * target + p * (1 - target);
    const torch::Tensor focal_weight = (options_.alpha * target + (1 - options_.alpha) * (1 - target)) * pt.pow(options_.gamma);
    loss = F::binary_cross_entropy_with_logits(pred, target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone)) *
           focal_weight;
  }
  torch::Tensor weight = weight_in;
  if (weight.defined() && weight.sizes() != loss.sizes()) {
    weight = weight.size(0) == loss.size(0) ? weight.view({-1, 1}) : weight.view({loss.size(0), -1});
  }
  return options_.loss_weight * weight_reduce_loss(loss, weight, reduction_override.value_or(options_.reduction), avg_factor);
}

}  // namespace cppdet::models
