#include "cppdet/models/losses/iou_loss.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/bbox_overlaps.h"

namespace cppdet::models {

IoULossOptions IoULossOptions::from_config(const config::Value& cfg, const std::string& path, const std::string& type) {
  config::ConfigReader r(cfg, path);
  IoULossOptions o;
  o.giou = type == "GIoULoss";
  if (!o.giou) {
    o.mode = r.get_string("mode", "log");
    if (o.mode != "log" && o.mode != "linear" && o.mode != "square")
      throw ConfigError(r.path_of("mode") + ": expected 'log', 'linear' or 'square', got '" + o.mode + "'");
    if (r.get_bool("linear", false)) o.mode = "linear";
  }
  o.eps = r.get_number("eps", 1e-6);
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  o.loss_weight = r.get_number("loss_weight", 1.0);
  r.finish();
  return o;
}

torch::Tensor IoULoss::forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight_in,
                               std::optional<double> avg_factor, std::optional<Reduction> reduction_override) const {
  const Reduction reduction = reduction_override.value_or(options_.reduction);
  torch::Tensor weight = weight_in;
  if (weight.defined() && (options_.giou || reduction != Reduction::kNone) && !(weight > 0).any().item<bool>())
    return (pred * (pred.dim() == weight.dim() + 1 ? weight.unsqueeze(1) : weight)).sum();
  if (weight.defined() && weight.dim() > 1) {
    TORCH_CHECK(weight.sizes() == pred.sizes(), "IoULoss: weight ", weight.sizes(), " vs pred ", pred.sizes());
    weight = weight.mean(-1);
  }
  torch::Tensor loss;
  if (options_.giou) {
    loss = 1 - ops::bbox_overlaps(pred, target, ops::OverlapMode::kGIoU, /*aligned=*/true, options_.eps);
  } else {
    const torch::Tensor ious = ops::bbox_overlaps(pred, target, ops::OverlapMode::kIoU, /*aligned=*/true).clamp_min(options_.eps);
    if (options_.mode == "linear") loss = 1 - ious;
    else if (options_.mode == "square") loss = 1 - ious.pow(2);
    else loss = -ious.log();
  }
  return options_.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor);
}

}  // namespace cppdet::models
