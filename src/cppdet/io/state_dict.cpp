#include "cppdet/io/state_dict.h"

#include <map>
#include <sstream>

#include "cppdet/core/error.h"

namespace cppdet::io {

namespace {

// torch.Size's repr: "torch.Size([81, 1024])".
std::string torch_size(const std::vector<int64_t>& shape) {
  std::string out = "torch.Size([";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "])";
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

void collect(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false))
    if (item.value().defined()) out.emplace_back(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/false))
    if (item.value().defined()) out.emplace_back(prefix + item.key(), item.value());
  for (const auto& child : module.named_children()) collect(*child.value(), prefix + child.key() + ".", out);
}

}  // namespace

std::string LoadReport::message() const {
  // mmcv.runner.load_state_dict: torch's size-mismatch lines, then unexpected, then missing.
  std::vector<std::string> parts;
  for (const SizeMismatch& m : size_mismatches)
    parts.push_back("size mismatch for " + m.name + ": copying a param with shape " + torch_size(m.checkpoint_shape) +
                    " from checkpoint, the shape in current model is " + torch_size(m.model_shape) + ".");
  if (!unexpected_keys.empty()) parts.push_back("unexpected key in source state_dict: " + join(unexpected_keys) + "\n");
  if (!missing_keys.empty()) parts.push_back("missing keys in source state_dict: " + join(missing_keys) + "\n");
  if (parts.empty()) return "";
  std::string out = "The model and loaded state dict do not match exactly\n";
  for (const std::string& p : parts) out += "\n" + p;
  return out;
}

StateDict module_state_dict(const torch::nn::Module& model) {
  StateDict out;
  collect(model, "", out);
  return out;
}

LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state_dict, bool strict) {
  LoadReport report;
  StateDict targets = module_state_dict(model);
  std::map<std::string, const torch::Tensor*> source;
  for (const auto& [name, t] : state_dict) source[name] = &t;
  std::map<std::string, bool> in_model;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    in_model[name] = true;
    auto it = source.find(name);
    if (it == source.end()) {
      if (name.find("num_batches_tracked") == std::string::npos) report.missing_keys.push_back(name);
      continue;
    }
    torch::Tensor input = *it->second;
    // torch's backward-compatibility rule: a shape-[1] tensor loads into a 0-d one.
    if (target.dim() == 0 && input.dim() == 1 && input.numel() == 1) input = input[0];
    if (input.sizes() != target.sizes()) {
      report.size_mismatches.push_back({name, input.sizes().vec(), target.sizes().vec()});
      continue;
    }
    target.copy_(input);
    report.loaded_keys.push_back(name);
  }
  for (const auto& [name, t] : state_dict)
    if (!in_model.count(name)) report.unexpected_keys.push_back(name);
  if (strict && !report.exact()) throw UserError(report.message());
  return report;
}

}  // namespace cppdet::io
