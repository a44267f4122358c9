#pragma once
// The training optimizer built from config `optimizer` (mmcv's build_optimizer with
// DefaultOptimizerConstructor) on top of torch::optim::SGD, plus `optimizer_config`'s
// gradient clipping.
//
// Parameter groups follow mmcv:
//  * no paramwise_cfg: ONE group with every parameter of the model (frozen ones included;
//    they never receive a gradient, so SGD skips them), lr / weight_decay from the config;
//  * with paramwise_cfg: one group PER parameter in named_parameters() order. A frozen
//    parameter (requires_grad=false) keeps the defaults. Otherwise the first custom_keys key
//    (sorted by length descending, then alphabetically) that is a substring of the full name
//    sets lr = lr * lr_mult and weight_decay = weight_decay * decay_mult; when none matches:
//    biases (outside norm layers) get bias_lr_mult, and the decay mult is norm_decay_mult for
//    parameters of norm layers (BatchNorm, InstanceNorm, GroupNorm, LayerNorm), else
//    dwconv_decay_mult for depth-wise Conv2d (in_channels == groups), else bias_decay_mult for
//    biases.
// state_dict() is torch.optim.SGD.state_dict()'s layout, so Python reads and loads it:
//   {"state": {idx: {"momentum_buffer": T}}, "param_groups": [{"lr", "momentum", "dampening",
//    "weight_decay", "nesterov", "maximize", "foreach", "differentiable", "initial_lr",
//    "params": [idx, ...]}]}  (idx numbers parameters across groups in order).
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/io/saved_value.h"

namespace cppdet::engine {

struct CustomKeyRule {
  std::string key;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

struct ParamwiseOptions {
  double bias_lr_mult = 1.0;
  double bias_decay_mult = 1.0;
  double norm_decay_mult = 1.0;
  double dwconv_decay_mult = 1.0;
  bool bypass_duplicate = false;
  std::vector<CustomKeyRule> custom_keys;  // in mmcv's matching order (longest first)
};

struct OptimizerOptions {
  std::string type = "SGD";
  double lr = 0.0;
  double momentum = 0.0;
  double dampening = 0.0;
  std::optional<double> weight_decay;  // absent: 0 and no decay mults (mmcv's base_wd None)
  bool nesterov = false;
  std::optional<ParamwiseOptions> paramwise;  // set when paramwise_cfg is given
};

// Reads config `optimizer` (type SGD). Errors name `path` and the key.
OptimizerOptions optimizer_from_config(const config::Value& optimizer_cfg, const std::string& path = "optimizer");

struct GradClipOptions {
  double max_norm = 0.0;
  double norm_type = 2.0;
};
// Reads config `optimizer_config` (grad_clip=None or dict(max_norm, norm_type)); nullopt
// without clipping.
std::optional<GradClipOptions> grad_clip_from_config(const config::Value& optimizer_config,
                                                     const std::string& path = "optimizer_config");

class Optimizer {
 public:
  Optimizer(torch::nn::Module& model, const OptimizerOptions& options);

  size_t num_groups() const { return sgd_->param_groups().size(); }
  double lr(size_t group) const;
  void set_lr(size_t group, double lr);
  // mmcv's `initial_lr` of each group: the configured lr, or the one restored from a checkpoint.
  const std::vector<double>& initial_lrs() const { return initial_lrs_; }
  // Parameter names of each group, in order.
  const std::vector<std::vector<std::string>>& group_names() const { return group_names_; }
  double group_weight_decay(size_t group) const;

  // Every parameter of every group, in order.
  std::vector<torch::Tensor> parameters() const;

  // Zeroes existing gradients in place (torch 1.x Python's zero_grad(set_to_none=False)).
  void zero_grad();
  void step();
  // Gradient-norm clipping of the parameters that require grad and have one; returns the
  // total norm before clipping (torch.nn.utils.clip_grad_norm_).
  double clip_grad_norm(const GradClipOptions& clip);

  io::SavedValue state_dict() const;
  // Restores lr/momentum/... of each group, initial_lr and the momentum buffers. Throws
  // FileFormatError naming `where` when group or parameter counts/shapes differ.
  void load_state_dict(const io::SavedValue& state, const std::string& where);

 private:
  std::unique_ptr<torch::optim::SGD> sgd_;
  std::vector<double> initial_lrs_;
  std::vector<std::vector<std::string>> group_names_;
};

}  // namespace cppdet::engine
