#include "cppdet/models/losses/l1_loss.h"

#include "cppdet/config/reader.h"

namespace cppdet::models {

L1LossOptions L1LossOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  L1LossOptions o;
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  o.loss_weight = r.get_number("loss_weight", 1.0);
  r.finish();
  return o;
}

torch::Tensor L1Loss::forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight,
                              std::optional<double> avg_factor, std::optional<Reduction> reduction_override) const {
  torch::Tensor loss;
  if (target.numel() == 0) {
    loss = pred.sum() * 0;
  } else {
    TORCH_CHECK(pred.sizes() == target.sizes(), "L1Loss: pred ", pred.sizes(), " vs target ", target.sizes());
    loss = torch::abs(pred - target);
  }
  return options_.loss_weight * weight_reduce_loss(loss, weight, reduction_override.value_or(options_.reduction), avg_factor);
}

}  // namespace cppdet::models
