#include "cppdet/models/necks/fpn.h"

#include <torch/nn/functional/upsampling.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

FPNOptions FPNOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  FPNOptions o;
  o.in_channels = r.get_ints("in_channels");
  o.out_channels = r.get_int("out_channels");
  o.num_outs = r.get_int("num_outs");
  o.start_level = r.get_int("start_level", 0);
  o.end_level = r.get_int("end_level", -1);
  if (const config::Value* v = r.get_optional("add_extra_convs")) {
    if (v->is_bool()) {
      o.add_extra_convs = v->as_bool() ? "on_input" : "";
    } else if (v->is_string() && (v->as_string() == "on_input" || v->as_string() == "on_lateral" ||
                                  v->as_string() == "on_output")) {
      o.add_extra_convs = v->as_string();
    } else {
      throw ConfigError(r.path_of("add_extra_convs") +
                        ": expected False, True, 'on_input', 'on_lateral' or 'on_output', got " + v->brief());
    }
  }
  o.relu_before_extra_convs = r.get_bool("relu_before_extra_convs", false);
  o.no_norm_on_lateral = r.get_bool("no_norm_on_lateral", false);
  o.norm_cfg = NormConfig::from_config(r.get_optional("norm_cfg"), r.path_of("norm_cfg"));
  o.relu = read_relu_act_cfg(r.has("act_cfg") ? &r.get("act_cfg") : nullptr, r.path_of("act_cfg"), false);
  if (const config::Value* v = r.get_optional("conv_cfg")) {
    config::ConfigReader c(*v, r.path_of("conv_cfg"));
    if (c.get_string("type") != "Conv2d" && c.get_string("type") != "Conv")
      throw ConfigError(c.path_of("type") + ": only Conv2d is supported");
    c.finish();
  }
  if (const config::Value* v = r.get_optional("upsample_cfg")) {
    config::ConfigReader u(*v, r.path_of("upsample_cfg"));
    o.upsample_mode = u.get_string("mode", "nearest");
    if (o.upsample_mode != "nearest")
      throw ConfigError(u.path_of("mode") + ": only 'nearest' upsampling is supported, got '" + o.upsample_mode + "'");
    if (u.get_optional("scale_factor")) o.upsample_scale_factor = u.get_number("scale_factor");
    u.finish();
  }
  r.ignore({"init_cfg"});
  r.finish();

  const int64_t num_ins = static_cast<int64_t>(o.in_channels.size());
  if (o.start_level < 0 || o.start_level >= num_ins)
    throw ConfigError(r.path_of("start_level") + ": must be in [0, " + std::to_string(num_ins) + ")");
  if (o.end_level == -1 || o.end_level == num_ins - 1) {
    if (o.num_outs < num_ins - o.start_level)
      throw ConfigError(r.path_of("num_outs") + ": must be >= len(in_channels) - start_level");
  } else {
    if (o.end_level >= num_ins) throw ConfigError(r.path_of("end_level") + ": must be < len(in_channels)");
    if (o.num_outs != o.end_level - o.start_level + 1)
      throw ConfigError(r.path_of("num_outs") + ": must equal end_level - start_level + 1");
  }
  return o;
}

FPN::FPN(FPNOptions options) : options_(std::move(options)) {
  const int64_t num_ins = static_cast<int64_t>(options_.in_channels.size());
  backbone_end_level_ = (options_.end_level == -1 || options_.end_level == num_ins - 1) ? num_ins : options_.end_level + 1;
  lateral_convs = register_module("lateral_convs", torch::nn::ModuleList());
  fpn_convs = register_module("fpn_convs", torch::nn::ModuleList());
  const int64_t out = options_.out_channels;
  for (int64_t i = options_.start_level; i < backbone_end_level_; ++i) {
    ConvModuleOptions lat{options_.in_channels[i], out, 1, 1, 0, 1,
                          options_.no_norm_on_lateral ? std::nullopt : options_.norm_cfg, options_.relu};
    ConvModuleOptions fpn{out, out, 3, 1, 1, 1, options_.norm_cfg, options_.relu};
    lateral_convs->push_back(ConvModule(lat));
    fpn_convs->push_back(ConvModule(fpn));
  }
  const int64_t extra_levels = options_.num_outs - backbone_end_level_ + options_.start_level;
  if (!options_.add_extra_convs.empty() && extra_levels >= 1) {
    for (int64_t i = 0; i < extra_levels; ++i) {
      const int64_t in = (i == 0 && options_.add_extra_convs == "on_input")
                             ? options_.in_channels[backbone_end_level_ - 1]
                             : out;
      fpn_convs->push_back(ConvModule(ConvModuleOptions{in, out, 3, 2, 1, 1, options_.norm_cfg, options_.relu}));
    }
  }
}

torch::Tensor FPN::upsample_to(const torch::Tensor& x, const torch::Tensor& like) const {
  namespace F = torch::nn::functional;
  auto opts = F::InterpolateFuncOptions().mode(torch::kNearest);
  if (options_.upsample_scale_factor)
    opts.scale_factor(std::vector<double>{*options_.upsample_scale_factor, *options_.upsample_scale_factor});
  else
    opts.size(std::vector<int64_t>{like.size(2), like.size(3)});
  return F::interpolate(x, opts);
}

std::vector<torch::Tensor> FPN::top_down(std::vector<torch::Tensor> laterals) const {
  for (size_t i = laterals.size() - 1; i > 0; --i) laterals[i - 1] = laterals[i - 1] + upsample_to(laterals[i], laterals[i - 1]);
  return laterals;
}

std::vector<torch::Tensor> FPN::forward(const std::vector<torch::Tensor>& inputs) {
  if (inputs.empty() || !prepared_.applies(*this, *this, inputs[0]))
    return output_levels(inputs, top_down(lateral_levels(inputs)));
  std::vector<torch::Tensor> laterals = lateral_levels(inputs);
  for (size_t i = laterals.size() - 1; i > 0; --i)
    laterals[i - 1] = add_activations(laterals[i - 1], upsample_to(laterals[i], laterals[i - 1]), /*relu=*/false,
                                      prepared_.precision().mode, top_down_sums_.at(i - 1));
  return output_levels(inputs, laterals);
}

bool FPN::set_inference_precision(const InferencePrecision& precision, const std::string& path) {
  top_down_sums_.clear();
  const bool prepare = precision.mode != PrecisionMode::kFp32 && !is_training();
  if (prepare)
    for (size_t i = 0; i + 1 < lateral_convs->size(); ++i)
      top_down_sums_.emplace_back(precision, child_path(path, "top_down." + std::to_string(i)));
  prepared_.set(prepare, precision, path, *this);
  return prepare;
}

std::vector<torch::Tensor> FPN::lateral_levels(const std::vector<torch::Tensor>& inputs) {
  TORCH_CHECK(inputs.size() == options_.in_channels.size(), "FPN: expected ", options_.in_channels.size(),
              " inputs, got ", inputs.size());
  std::vector<torch::Tensor> laterals;
  for (size_t i = 0; i < lateral_convs->size(); ++i)
    laterals.push_back(lateral_convs[i]->as<ConvModuleImpl>()->forward(inputs[i + options_.start_level]));
  return laterals;
}

std::vector<torch::Tensor> FPN::output_levels(const std::vector<torch::Tensor>& inputs,
                                              const std::vector<torch::Tensor>& laterals) {
  const int64_t used = static_cast<int64_t>(laterals.size());
  std::vector<torch::Tensor> outs;
  for (int64_t i = 0; i < used; ++i) outs.push_back(fpn_convs[i]->as<ConvModuleImpl>()->forward(laterals[i]));
  if (options_.num_outs > used) {
    if (options_.add_extra_convs.empty()) {
      for (int64_t i = 0; i < options_.num_outs - used; ++i) outs.push_back(torch::max_pool2d(outs.back(), {1, 1}, {2, 2}, {0, 0}, {1, 1}));
    } else {
      torch::Tensor source = options_.add_extra_convs == "on_input"     ? inputs[backbone_end_level_ - 1]
                             : options_.add_extra_convs == "on_lateral" ? laterals.back()
                                                                        : outs.back();
      outs.push_back(fpn_convs[used]->as<ConvModuleImpl>()->forward(source));
      for (int64_t i = used + 1; i < options_.num_outs; ++i) {
        torch::Tensor x = options_.relu_before_extra_convs ? torch::relu(outs.back()) : outs.back();
        outs.push_back(fpn_convs[i]->as<ConvModuleImpl>()->forward(x));
      }
    }
  }
  return outs;
}

}  // namespace cppdet::models
