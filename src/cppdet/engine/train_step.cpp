#include "cppdet/engine/train_step.h"

#include <torch/torch.h>

#include <cmath>

#include "cppdet/distributed/process_group.h"

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

void reduce_log_vars(StepOutputs& outputs, distributed::ProcessGroup& group) {
  const int64_t n = static_cast<int64_t>(outputs.log_vars.size());
  const auto opts = torch::TensorOptions().dtype(torch::kDouble).device(group.device());
  torch::Tensor length = torch::tensor({static_cast<double>(n)}, opts);
  group.all_reduce(length);
  if (length.item<double>() != static_cast<double>(n * group.world_size())) {
    std::string keys;
    for (const auto& [name, value] : outputs.log_vars) keys += (keys.empty() ? "" : ",") + name;
    throw distributed::DistributedError("loss log variables are different across ranks: rank " +
                                        std::to_string(group.rank()) + " has " + std::to_string(n) + ": " + keys);
  }
  std::vector<double> values;
  for (const auto& [name, value] : outputs.log_vars) values.push_back(value / group.world_size());
  torch::Tensor mean = torch::tensor(values, torch::kDouble).to(group.device());
  group.all_reduce(mean);
  mean = mean.cpu();
  for (int64_t i = 0; i < n; ++i) outputs.log_vars[static_cast<size_t>(i)].second = mean[i].item<double>();
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
