#include "cppdet/models/losses/gfocal_loss.h"

#include <torch/nn/functional/loss.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

namespace F = torch::nn::functional;

QualityFocalLossOptions QualityFocalLossOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  QualityFocalLossOptions o;
  if (!r.get_bool("use_sigmoid", true))
    throw ConfigError(r.path_of("use_sigmoid") + ": only the sigmoid QualityFocalLoss is supported");
  o.beta = r.get_number("beta", 2.0);
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  o.loss_weight = r.get_number("loss_weight", 1.0);
  o.activated = r.get_bool("activated", false);
  r.finish();
  return o;
}

torch::Tensor QualityFocalLoss::forward(const torch::Tensor& pred, const torch::Tensor& target,
                                        const torch::Tensor& weight, std::optional<double> avg_factor,
                                        std::optional<Reduction> reduction_override) const {
  TORCH_CHECK(pred.sizes() == target.sizes(), "QualityFocalLoss: pred ", pred.sizes(), " vs target ", target.sizes());
  const torch::Tensor t = target.to(pred.scalar_type());
  torch::Tensor loss;
  if (options_.activated) {
    loss = F::binary_cross_entropy(pred, t, F::BinaryCrossEntropyFuncOptions().reduction(torch::kNone)) *
           (t - pred).abs().pow(options_.beta);
  } else {
    loss = F::binary_cross_entropy_with_logits(pred, t, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone)) *
           (t - pred.sigmoid()).abs().pow(options_.beta);
  }
  return options_.loss_weight *
         weight_reduce_loss(loss.sum(1), weight, reduction_override.value_or(options_.reduction), avg_factor);
}

DistributionFocalLossOptions DistributionFocalLossOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  DistributionFocalLossOptions o;
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  o.loss_weight = r.get_number("loss_weight", 1.0);
  r.finish();
  return o;
}

torch::Tensor DistributionFocalLoss::forward(const torch::Tensor& pred, const torch::Tensor& target,
                                             const torch::Tensor& weight, std::optional<double> avg_factor,
                                             std::optional<Reduction> reduction_override) const {
  const torch::Tensor dis_left = target.to(torch::kLong);
  const torch::Tensor dis_right = dis_left + 1;
  const torch::Tensor weight_left = dis_right.to(torch::kFloat32) - target;
  const torch::Tensor weight_right = target - dis_left.to(torch::kFloat32);
  const auto none = F::CrossEntropyFuncOptions().reduction(torch::kNone);
  const torch::Tensor loss =
      F::cross_entropy(pred, dis_left, none) * weight_left + F::cross_entropy(pred, dis_right, none) * weight_right;
  return options_.loss_weight * weight_reduce_loss(loss, weight, reduction_override.value_or(options_.reduction), avg_factor);
}

}  // namespace cppdet::models
