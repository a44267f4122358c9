#include "cppdet/models/losses/loss.h"

#include <limits>
#include <stdexcept>

#include "cppdet/core/error.h"

namespace cppdet::models {

Reduction reduction_from_string(const std::string& name, const std::string& path) {
  if (name == "none") return Reduction::kNone;
  if (name == "mean") return Reduction::kMean;
  if (name == "sum") return Reduction::kSum;
  throw ConfigError(path + ": reduction must be 'none', 'mean' or 'sum', got '" + name + "'");
}

torch::Tensor weight_reduce_loss(const torch::Tensor& loss_in, const torch::Tensor& weight, Reduction reduction,
                                 std::optional<double> avg_factor) {
  torch::Tensor loss = weight.defined() ? loss_in * weight : loss_in;
  if (!avg_factor) {
    switch (reduction) {
      case Reduction::kNone: return loss;
      case Reduction::kMean: return loss.mean();
      case Reduction::kSum: return loss.sum();
    }
  }
  if (reduction == Reduction::kMean)
    return loss.sum() / (*avg_factor + static_cast<double>(std::numeric_limits<float>::epsilon()));
  if (reduction == Reduction::kSum) throw std::invalid_argument("avg_factor can not be used with reduction=\"sum\"");
  return loss;
}

}  // namespace cppdet::models
