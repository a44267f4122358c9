#include "cppdet/engine/train_step.h"

#include <torch/torch.h>

#include <cmath>

namespace cppdet::engine {

StepOutputs parse_losses(const LogVars& log_vars, int64_t num_samples) {
  StepOutputs out;
  out.num_samples = num_samples;
  std::vector<torch::Tensor> means;
  for (const auto& [name, value] : log_vars) {
    if (!value.defined()) throw std::invalid_argument("parse_losses: log var '" + name + "' is undefined");
    means.push_back(value.mean());
  }
  for (size_t i = 0; i < log_vars.size(); ++i) {
    if (log_vars[i].first.find("loss") == std::string::npos) continue;
    out.loss = out.loss.defined() ? out.loss + means[i] : means[i];
  }
  if (!out.loss.defined()) throw std::invalid_argument("parse_losses: the model returned no term named '*loss*'");
  for (size_t i = 0; i < log_vars.size(); ++i)
    out.log_vars.emplace_back(log_vars[i].first, means[i].item<double>());
  out.log_vars.emplace_back("loss", out.loss.item<double>());
  return out;
}

void check_finite(const StepOutputs& outputs, const std::string& where) {
  for (const auto& [name, value] : outputs.log_vars) {
    if (std::isfinite(value)) continue;
    throw NonFiniteLossError("non-finite loss at " + where + ": " + name + " = " +
                             (std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf")) +
                             " (lower the lr or add optimizer_config.grad_clip)");
  }
}

}  // namespace cppdet::engine
