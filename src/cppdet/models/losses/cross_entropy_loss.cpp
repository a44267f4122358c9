#include "cppdet/models/losses/cross_entropy_loss.h"

#include <torch/nn/functional/loss.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

namespace F = torch::nn::functional;

CrossEntropyLossOptions CrossEntropyLossOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  CrossEntropyLossOptions o;
  o.use_sigmoid = r.get_bool("use_sigmoid", false);
  o.use_mask = r.get_bool("use_mask", false);
  o.reduction = reduction_from_string(r.get_string("reduction", "mean"), r.path_of("reduction"));
  if (r.get_optional("class_weight")) o.class_weight = r.get_numbers("class_weight");
  if (r.get_optional("ignore_index")) o.ignore_index = r.get_int("ignore_index");
  o.loss_weight = r.get_number("loss_weight", 1.0);
  o.avg_non_ignore = r.get_bool("avg_non_ignore", false);
  r.finish();
  if (o.use_sigmoid && o.use_mask)
    throw ConfigError(path + ": use_sigmoid and use_mask cannot both be True");
  if (o.use_mask && o.ignore_index)
    throw ConfigError(r.path_of("ignore_index") + ": not supported with use_mask=True");
  return o;
}

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossOptions options) : options_(std::move(options)) {}

torch::Tensor CrossEntropyLoss::forward(const torch::Tensor& pred, const torch::Tensor& target,
                                        const torch::Tensor& weight, std::optional<double> avg_factor,
                                        std::optional<Reduction> reduction_override) const {
  const Reduction reduction = reduction_override.value_or(options_.reduction);
  torch::Tensor loss;
  if (options_.use_mask) loss = mask_ce(pred, target, weight);
  else if (options_.use_sigmoid) loss = sigmoid_bce(pred, target, weight, reduction, avg_factor);
  else loss = softmax_ce(pred, target, weight, reduction, avg_factor);
  return options_.loss_weight * loss;
}

torch::Tensor CrossEntropyLoss::softmax_ce(const torch::Tensor& pred, const torch::Tensor& label,
                                           const torch::Tensor& weight, Reduction reduction,
                                           std::optional<double> avg_factor) const {
  const int64_t ignore_index = options_.ignore_index.value_or(-100);
  auto opts = F::CrossEntropyFuncOptions().reduction(torch::kNone).ignore_index(ignore_index);
  if (!options_.class_weight.empty())
    opts.weight(torch::tensor(options_.class_weight, torch::kFloat64).to(pred.options()));
  const torch::Tensor loss = F::cross_entropy(pred, label, opts);
  if (!avg_factor && options_.avg_non_ignore && reduction == Reduction::kMean)
    avg_factor = static_cast<double>(label.numel() - (label == ignore_index).sum().item<int64_t>());
  return weight_reduce_loss(loss, weight.defined() ? weight.to(torch::kFloat32) : weight, reduction, avg_factor);
}

torch::Tensor CrossEntropyLoss::sigmoid_bce(const torch::Tensor& pred, const torch::Tensor& label_in,
                                            const torch::Tensor& weight_in, Reduction reduction,
                                            std::optional<double> avg_factor) const {
  const int64_t ignore_index = options_.ignore_index.value_or(-100);
  torch::Tensor label = label_in, weight = weight_in, valid_mask;
  if (pred.dim() != label.dim()) {
    // _expand_onehot_labels: ids in [0, C) set their channel; weights repeat over channels.
    const int64_t channels = pred.size(-1);
    torch::Tensor bin = torch::zeros({label.size(0), channels}, label.options());
    torch::Tensor valid = (label >= 0) & (label != ignore_index);
    const torch::Tensor inds = torch::nonzero(valid & (label < channels)).squeeze(1);
    if (inds.numel() > 0) bin.view({-1}).index_fill_(0, inds * channels + label.index_select(0, inds), 1);
    valid_mask = valid.view({-1, 1}).expand({label.size(0), channels}).to(torch::kFloat32);
    weight = weight.defined() ? weight.view({-1, 1}).repeat({1, channels}) * valid_mask : valid_mask;
    label = bin;
  } else {
    valid_mask = ((label >= 0) & (label != ignore_index)).to(torch::kFloat32);
    weight = weight.defined() ? weight * valid_mask : valid_mask;
  }
  if (options_.avg_non_ignore && !avg_factor && reduction == Reduction::kMean)
    avg_factor = valid_mask.sum().item<double>();
  auto opts = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone);
  if (!options_.class_weight.empty())
    opts.pos_weight(torch::tensor(options_.class_weight, torch::kFloat64).to(pred.options()));
  const torch::Tensor loss = F::binary_cross_entropy_with_logits(pred, label.to(torch::kFloat32), opts);
  return weight_reduce_loss(loss, weight.to(torch::kFloat32), reduction, avg_factor);
}

torch::Tensor CrossEntropyLoss::mask_ce(const torch::Tensor& pred, const torch::Tensor& target,
                                        const torch::Tensor& label) const {
  TORCH_CHECK(label.defined(), "CrossEntropyLoss(use_mask=True) needs the RoI labels as third argument");
  const torch::Tensor inds = torch::arange(pred.size(0), label.options().dtype(torch::kLong));
  const torch::Tensor pred_slice = pred.index({inds, label.to(torch::kLong)});
  auto opts = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kMean);
  if (!options_.class_weight.empty())
    opts.weight(torch::tensor(options_.class_weight, torch::kFloat64).to(pred.options()));
  return F::binary_cross_entropy_with_logits(pred_slice, target, opts);
}

}  // namespace cppdet::models
