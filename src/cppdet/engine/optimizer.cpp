#include "cppdet/engine/optimizer.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::engine {
namespace {

bool is_norm_module(const torch::nn::Module& m) {
  return dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&m) || dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&m) ||
         dynamic_cast<const torch::nn::BatchNorm3dImpl*>(&m) ||
         dynamic_cast<const torch::nn::InstanceNorm1dImpl*>(&m) ||
         dynamic_cast<const torch::nn::InstanceNorm2dImpl*>(&m) ||
         dynamic_cast<const torch::nn::InstanceNorm3dImpl*>(&m) || dynamic_cast<const torch::nn::GroupNormImpl*>(&m) ||
         dynamic_cast<const torch::nn::LayerNormImpl*>(&m);
}

bool is_depthwise_conv(const torch::nn::Module& m) {
  const auto* conv = dynamic_cast<const torch::nn::Conv2dImpl*>(&m);
  return conv && conv->options.in_channels() == conv->options.groups();
}

// The key LibTorch's optimizer state map uses for a parameter (a string in 1.x, a pointer in 2.x).
template <typename Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

struct GroupSpec {
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  double lr;
  double weight_decay;
};

class ParamwiseBuilder {
 public:
  ParamwiseBuilder(const OptimizerOptions& o) : o_(o), pw_(*o.paramwise) {}

  void add(const torch::nn::Module& module, const std::string& prefix, std::vector<GroupSpec>& groups) {
    const bool norm = is_norm_module(module);
    const bool dwconv = is_depthwise_conv(module);
    const double base_wd = o_.weight_decay.value_or(0.0);
    for (const auto& item : module.named_parameters(/*recurse=*/false)) {
      const std::string& name = item.key();
      const torch::Tensor& p = item.value();
      const std::string full = prefix.empty() ? name : prefix + "." + name;
      GroupSpec g{{full}, {p}, o_.lr, base_wd};
      if (!seen_.insert(p.unsafeGetTensorImpl()).second) {
        if (pw_.bypass_duplicate) continue;
        throw ConfigError("optimizer.paramwise_cfg: parameter '" + full +
                          "' is shared with another module; set bypass_duplicate=True");
      }
      if (!p.requires_grad()) {
        groups.push_back(std::move(g));
        continue;
      }
      const std::string dotted = prefix + "." + name;  // mmcv matches against f'{prefix}.{name}'
      bool custom = false;
      for (const CustomKeyRule& rule : pw_.custom_keys) {
        if (dotted.find(rule.key) == std::string::npos) continue;
        custom = true;
        g.lr = o_.lr * rule.lr_mult;
        if (o_.weight_decay) g.weight_decay = base_wd * rule.decay_mult;
        break;
      }
      if (!custom) {
        const bool bias = name == "bias";
        if (bias && !norm) g.lr = o_.lr * pw_.bias_lr_mult;
        if (o_.weight_decay) {
          if (norm) g.weight_decay = base_wd * pw_.norm_decay_mult;
          else if (dwconv) g.weight_decay = base_wd * pw_.dwconv_decay_mult;
          else if (bias) g.weight_decay = base_wd * pw_.bias_decay_mult;
        }
      }
      groups.push_back(std::move(g));
    }
    for (const auto& child : module.named_children())
      add(*child.value(), prefix.empty() ? child.key() : prefix + "." + child.key(), groups);
  }

 private:
  const OptimizerOptions& o_;
  const ParamwiseOptions& pw_;
  std::set<const void*> seen_;
};

io::SavedValue saved_double(double v) { return io::SavedValue(v); }

}  // namespace

OptimizerOptions optimizer_from_config(const config::Value& optimizer_cfg, const std::string& path) {
  config::ConfigReader r(optimizer_cfg, path);
  OptimizerOptions o;
  o.type = r.get_string("type");
  if (o.type != "SGD")
    throw ConfigError(r.path_of("type") + ": optimizer '" + o.type + "' is not supported (known: SGD)");
  o.lr = r.get_number("lr");
  o.momentum = r.get_number("momentum", 0.0);
  o.dampening = r.get_number("dampening", 0.0);
  if (const config::Value* wd = r.get_optional("weight_decay")) o.weight_decay = wd->as_number();
  o.nesterov = r.get_bool("nesterov", false);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw ConfigError(path + ": nesterov momentum requires a momentum and zero dampening");
  if (const config::Value* pw = r.get_optional("paramwise_cfg")) {
    config::ConfigReader p(*pw, r.path_of("paramwise_cfg"));
    ParamwiseOptions po;
    for (const char* key : {"bias_decay_mult", "norm_decay_mult", "dwconv_decay_mult"})
      if (p.has(key) && !o.weight_decay)
        throw ConfigError(p.path_of(key) + ": needs optimizer.weight_decay to be set");
    po.bias_lr_mult = p.get_number("bias_lr_mult", 1.0);
    po.bias_decay_mult = p.get_number("bias_decay_mult", 1.0);
    po.norm_decay_mult = p.get_number("norm_decay_mult", 1.0);
    po.dwconv_decay_mult = p.get_number("dwconv_decay_mult", 1.0);
    po.bypass_duplicate = p.get_bool("bypass_duplicate", false);
    p.ignore({"dcn_offset_lr_mult"});  // cppdet has no deformable convolutions
    if (const config::Value* ck = p.get_optional("custom_keys")) {
      if (!ck->is_dict()) throw ConfigError(p.path_of("custom_keys") + ": expected dict, got " + ck->type_name());
      std::vector<std::string> keys = ck->as_dict().keys();
      std::sort(keys.begin(), keys.end());
      std::stable_sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
      for (const std::string& key : keys) {
        config::ConfigReader k(ck->as_dict().at(key), p.path_of("custom_keys") + "." + key);
        CustomKeyRule rule{key, k.get_number("lr_mult", 1.0), 1.0};
        if (k.has("decay_mult") && !o.weight_decay)
          throw ConfigError(k.path_of("decay_mult") + ": needs optimizer.weight_decay to be set");
        rule.decay_mult = k.get_number("decay_mult", 1.0);
        k.finish();
        po.custom_keys.push_back(rule);
      }
    }
    p.finish();
    o.paramwise = po;
  }
  r.finish();
  return o;
}

std::optional<GradClipOptions> grad_clip_from_config(const config::Value& optimizer_config, const std::string& path) {
  config::ConfigReader r(optimizer_config, path);
  const config::Value* clip = r.get_optional("grad_clip");
  r.ignore({"type"});
  r.finish();
  if (!clip) return std::nullopt;
  config::ConfigReader c(*clip, r.path_of("grad_clip"));
  GradClipOptions g;
  g.max_norm = c.get_number("max_norm");
  g.norm_type = c.get_number("norm_type", 2.0);
  c.finish();
  return g;
}

Optimizer::Optimizer(torch::nn::Module& model, const OptimizerOptions& o) {
  std::vector<GroupSpec> specs;
  if (o.paramwise) {
    ParamwiseBuilder(o).add(model, "", specs);
  } else {
    GroupSpec all{{}, {}, o.lr, o.weight_decay.value_or(0.0)};
    std::set<const void*> seen;
    for (const auto& item : model.named_parameters(/*recurse=*/true)) {
      if (!seen.insert(item.value().unsafeGetTensorImpl()).second) continue;
      all.names.push_back(item.key());
      all.params.push_back(item.value());
    }
    specs.push_back(std::move(all));
  }
  if (specs.empty() || specs.front().params.empty()) throw UserError("optimizer: the model has no parameters");
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (GroupSpec& g : specs) {
    auto options = std::make_unique<torch::optim::SGDOptions>(g.lr);
    options->momentum(o.momentum).dampening(o.dampening).weight_decay(g.weight_decay).nesterov(o.nesterov);
    groups.emplace_back(g.params, std::move(options));
    group_names_.push_back(std::move(g.names));
    initial_lrs_.push_back(g.lr);
  }
  torch::optim::SGDOptions defaults(o.lr);
  defaults.momentum(o.momentum).dampening(o.dampening).weight_decay(o.weight_decay.value_or(0.0)).nesterov(o.nesterov);
  sgd_ = std::make_unique<torch::optim::SGD>(std::move(groups), defaults);
}

double Optimizer::lr(size_t group) const {
  return static_cast<const torch::optim::SGDOptions&>(sgd_->param_groups().at(group).options()).lr();
}

void Optimizer::set_lr(size_t group, double lr) {
  static_cast<torch::optim::SGDOptions&>(sgd_->param_groups().at(group).options()).lr(lr);
}

double Optimizer::group_weight_decay(size_t group) const {
  return static_cast<const torch::optim::SGDOptions&>(sgd_->param_groups().at(group).options()).weight_decay();
}

void Optimizer::zero_grad() {
  for (auto& group : sgd_->param_groups())
    for (auto& p : group.params()) {
      torch::Tensor& g = p.mutable_grad();
      if (g.defined()) {
        g.detach_();
        g.zero_();
      }
    }
}

void Optimizer::step() { sgd_->step(); }

std::vector<torch::Tensor> Optimizer::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& group : sgd_->param_groups())
    for (const auto& p : group.params()) out.push_back(p);
  return out;
}

double Optimizer::clip_grad_norm(const GradClipOptions& clip) {
  std::vector<torch::Tensor> params;
  for (auto& group : sgd_->param_groups())
    for (auto& p : group.params())
      if (p.requires_grad() && p.grad().defined()) params.push_back(p);
  if (params.empty()) return 0.0;
  return torch::nn::utils::clip_grad_norm_(params, clip.max_norm, clip.norm_type);
}

io::SavedValue Optimizer::state_dict() const {
  io::SavedDict state;
  io::SavedList groups;
  int64_t index = 0;
  const auto& states = sgd_->state();
  for (size_t gi = 0; gi < sgd_->param_groups().size(); ++gi) {
    const auto& group = sgd_->param_groups()[gi];
    const auto& opt = static_cast<const torch::optim::SGDOptions&>(group.options());
    io::SavedList indices;
    for (const torch::Tensor& p : group.params()) {
      auto it = states.find(state_key(states, p));
      if (it != states.end()) {
        const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
        if (s.momentum_buffer().defined())
          state.emplace_back(index, io::SavedDict{{std::string("momentum_buffer"), s.momentum_buffer().detach().cpu()}});
      }
      indices.emplace_back(index++);
    }
    io::SavedDict g;
    g.emplace_back(std::string("lr"), saved_double(opt.lr()));
    g.emplace_back(std::string("momentum"), saved_double(opt.momentum()));
    g.emplace_back(std::string("dampening"), saved_double(opt.dampening()));
    g.emplace_back(std::string("weight_decay"), saved_double(opt.weight_decay()));
    g.emplace_back(std::string("nesterov"), io::SavedValue(opt.nesterov()));
    g.emplace_back(std::string("maximize"), io::SavedValue(false));
    g.emplace_back(std::string("foreach"), io::SavedValue());
    g.emplace_back(std::string("differentiable"), io::SavedValue(false));
    g.emplace_back(std::string("initial_lr"), saved_double(initial_lrs_[gi]));
    g.emplace_back(std::string("params"), io::SavedValue::list(std::move(indices)));
    groups.emplace_back(std::move(g));
  }
  return io::SavedValue(io::SavedDict{{std::string("state"), io::SavedValue(std::move(state))},
                                      {std::string("param_groups"), io::SavedValue::list(std::move(groups))}});
}

void Optimizer::load_state_dict(const io::SavedValue& saved, const std::string& where) {
  const io::SavedValue* groups_v = saved.find(std::string("param_groups"));
  const io::SavedValue* state_v = saved.find(std::string("state"));
  if (!groups_v || !state_v) throw FileFormatError(where + ": optimizer state has no 'state' / 'param_groups'");
  const io::SavedList& groups = groups_v->as_sequence();
  auto& ours = sgd_->param_groups();
  if (groups.size() != ours.size())
    throw FileFormatError(where + ": optimizer has " + std::to_string(groups.size()) + " param groups, the model's has " +
                          std::to_string(ours.size()));
  std::map<int64_t, torch::Tensor> params_by_index;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const io::SavedValue& g = groups[gi];
    const io::SavedValue* params = g.find(std::string("params"));
    if (!params) throw FileFormatError(where + ": param_groups[" + std::to_string(gi) + "] has no 'params'");
    const io::SavedList& idx = params->as_sequence();
    if (idx.size() != ours[gi].params().size())
      throw FileFormatError(where + ": param_groups[" + std::to_string(gi) + "] has " + std::to_string(idx.size()) +
                            " parameters, the model's group has " + std::to_string(ours[gi].params().size()));
    for (size_t k = 0; k < idx.size(); ++k) params_by_index[idx[k].as_int()] = ours[gi].params()[k];
    auto& opt = static_cast<torch::optim::SGDOptions&>(ours[gi].options());
    auto number = [&](const char* key, double fallback) {
      const io::SavedValue* v = g.find(std::string(key));
      if (!v) return fallback;
      return v->kind() == io::SavedValue::Kind::Int ? static_cast<double>(v->as_int()) : v->as_float();
    };
    opt.lr(number("lr", opt.lr()));
    opt.momentum(number("momentum", opt.momentum()));
    opt.dampening(number("dampening", opt.dampening()));
    opt.weight_decay(number("weight_decay", opt.weight_decay()));
    if (const io::SavedValue* n = g.find(std::string("nesterov"))) opt.nesterov(n->as_bool());
    initial_lrs_[gi] = number("initial_lr", initial_lrs_[gi]);
  }
  auto& states = sgd_->state();
  states.clear();
  for (const auto& [key, value] : state_v->as_dict()) {
    if (!std::holds_alternative<int64_t>(key)) throw FileFormatError(where + ": optimizer state key is not an int");
    const int64_t index = std::get<int64_t>(key);
    auto it = params_by_index.find(index);
    if (it == params_by_index.end())
      throw FileFormatError(where + ": optimizer state for unknown parameter index " + std::to_string(index));
    const io::SavedValue* buf = value.find(std::string("momentum_buffer"));
    if (!buf || buf->is_none()) continue;
    const torch::Tensor& p = it->second;
    const torch::Tensor& t = buf->as_tensor();
    if (t.sizes() != p.sizes())
      throw FileFormatError(where + ": momentum buffer of parameter " + std::to_string(index) + " has shape " +
                            c10::str(t.sizes()) + ", the parameter " + c10::str(p.sizes()));
    auto s = std::make_unique<torch::optim::SGDParamState>();
    s->momentum_buffer(t.to(p.device(), p.scalar_type()).clone());
    states[state_key(states, p)] = std::move(s);
  }
}

}  // namespace cppdet::engine
