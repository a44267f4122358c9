#include "cppdet/models/losses/smooth_l1_loss.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

SmoothL1LossOptions SmoothL1LossOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  SmoothL1LossOptions o;
  o.beta = r.get_number("beta", 1.0);
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  o.loss_weight = r.get_number("loss_weight", 1.0);
  r.finish();
  if (!(o.beta > 0)) throw ConfigError(r.path_of("beta") + ": must be > 0");
  return o;
}

torch::Tensor SmoothL1Loss::forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight,
                                    std::optional<double> avg_factor,
                                    std::optional<Reduction> reduction_override) const {
  torch::Tensor loss;
  if (target.numel() == 0) {
    loss = pred.sum() * 0;
  } else {
    TORCH_CHECK(pred.sizes() == target.sizes(), "SmoothL1Loss: pred ", pred.sizes(), " vs target ", target.sizes());
    const double beta = options_.beta;
    const torch::Tensor diff = torch::abs(pred - target);
    loss = torch::where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta);
  }
  return options_.loss_weight * weight_reduce_loss(loss, weight, reduction_override.value_or(options_.reduction), avg_factor);
}

}  // namespace cppdet::models
