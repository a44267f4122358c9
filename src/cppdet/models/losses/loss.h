#pragma once
// Interface of training losses (mmdet's LOSSES registry) and mmdet's shared reduction rule.
//
// Every loss is called as mmdet calls it: loss(pred, target, weight, avg_factor,
// reduction_override) and returns loss_weight * the reduced loss. `weight` may be undefined
// (no weighting). For CrossEntropyLoss(use_mask=True) the third argument is, as in mmdet, the
// class label of each RoI (which channel of `pred` is trained), not an element weight.
#include <torch/types.h>

#include <optional>
#include <string>

namespace cppdet::models {

enum class Reduction { kNone, kMean, kSum };

// "none" | "mean" | "sum"; anything else is a ConfigError naming `path`.
Reduction reduction_from_string(const std::string& name, const std::string& path);

// mmdet's weight_reduce_loss: multiply by `weight` when defined; then without avg_factor
// reduce (none / mean / sum); with avg_factor and kMean: sum / (avg_factor + float32 eps);
// avg_factor with kSum is an error (std::invalid_argument), with kNone it is ignored.
torch::Tensor weight_reduce_loss(const torch::Tensor& loss, const torch::Tensor& weight, Reduction reduction,
                                 std::optional<double> avg_factor);

class Loss {
 public:
  virtual ~Loss() = default;
  virtual torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target,
                                const torch::Tensor& weight = {}, std::optional<double> avg_factor = std::nullopt,
                                std::optional<Reduction> reduction_override = std::nullopt) const = 0;
  torch::Tensor operator()(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                           std::optional<double> avg_factor = std::nullopt,
                           std::optional<Reduction> reduction_override = std::nullopt) const {
    return forward(pred, target, weight, avg_factor, reduction_override);
  }
};

}  // namespace cppdet::models
