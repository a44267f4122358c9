#include "cppdet/engine/hooks/fp16_optimizer_hook.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/engine/runner.h"

namespace cppdet::engine {
namespace {

// CUDA autocast for the lifetime of the guard (torch.autocast's __enter__ / __exit__).
class AutocastGuard {
 public:
  AutocastGuard() : previous_(at::autocast::is_enabled()) {
    at::autocast::set_enabled(true);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_enabled(previous_);
  }

 private:
  bool previous_;
};

}  // namespace

Fp16Options fp16_from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  Fp16Options o;
  const config::Value* scale = r.get_optional("loss_scale");
  if (!scale) {
    o.static_scale = 512.0;  // mmcv's default loss_scale=512.
  } else if (scale->is_string()) {
    if (scale->as_string() != "dynamic")
      throw ConfigError(path + ".loss_scale: expected a number, 'dynamic' or a dict, got '" + scale->as_string() + "'");
  } else if (scale->is_number()) {
    o.static_scale = scale->as_number();
  } else if (scale->is_dict()) {
    config::ConfigReader d(*scale, path + ".loss_scale");
    o.scaler.init_scale = d.get_number("init_scale", o.scaler.init_scale);
    o.scaler.growth_factor = d.get_number("growth_factor", o.scaler.growth_factor);
    o.scaler.backoff_factor = d.get_number("backoff_factor", o.scaler.backoff_factor);
    o.scaler.growth_interval = d.get_int("growth_interval", o.scaler.growth_interval);
    d.ignore({"enabled"});
    d.finish();
  } else {
    throw ConfigError(path + ".loss_scale: expected a number, 'dynamic' or a dict, got " + scale->brief());
  }
  if (o.static_scale) {
    if (!(*o.static_scale > 0)) throw ConfigError(path + ".loss_scale: must be positive");
    o.scaler.init_scale = *o.static_scale;
  }
  r.finish();
  if (o.scaler.growth_factor <= 1.0) throw ConfigError(path + ".loss_scale.growth_factor: must be above 1");
  if (o.scaler.backoff_factor <= 0.0 || o.scaler.backoff_factor >= 1.0)
    throw ConfigError(path + ".loss_scale.backoff_factor: must be between 0 and 1");
  if (o.scaler.growth_interval <= 0) throw ConfigError(path + ".loss_scale.growth_interval: must be positive");
  return o;
}

LossScaler::LossScaler(LossScalerOptions options) : options_(options), scale_(options.init_scale) {}

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  torch::Tensor found;  // one flag per device in torch; a single sum of flags here
  const double inv = 1.0 / scale_;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.mutable_grad();
    const torch::Tensor bad = torch::logical_not(torch::isfinite(g)).any().to(torch::kFloat);
    found = found.defined() ? found + bad.to(found.device()) : bad;
    g.mul_(inv);
  }
  return found.defined() && found.item<float>() > 0;
}

void LossScaler::update(bool found_inf, std::optional<double> new_scale) {
  if (new_scale) {
    scale_ = *new_scale;
    return;
  }
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

config::Dict LossScaler::state_dict() const {
  config::Dict d;
  d.set("scale", scale_);
  d.set("growth_factor", options_.growth_factor);
  d.set("backoff_factor", options_.backoff_factor);
  d.set("growth_interval", options_.growth_interval);
  d.set("_growth_tracker", growth_tracker_);
  return d;
}

void LossScaler::load_state_dict(const config::Dict& state, const std::string& where) {
  for (const char* key : {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"})
    if (!state.contains(key) || !state.at(key).is_number())
      throw FileFormatError(where + ": meta.fp16.loss_scaler." + key + " is missing or not a number");
  scale_ = state.at("scale").as_number();
  options_.growth_factor = state.at("growth_factor").as_number();
  options_.backoff_factor = state.at("backoff_factor").as_number();
  options_.growth_interval = static_cast<int64_t>(state.at("growth_interval").as_number());
  growth_tracker_ = static_cast<int64_t>(state.at("_growth_tracker").as_number());
}

Fp16OptimizerHook::Fp16OptimizerHook(std::optional<GradClipOptions> grad_clip, Fp16Options fp16)
    : grad_clip_(grad_clip), fp16_(fp16), scaler_(fp16.scaler) {}

void Fp16OptimizerHook::before_run(Runner& runner) {
  const config::Value* fp16 = runner.meta().find("fp16");
  if (!fp16 || !fp16->is_dict()) return;
  if (const config::Value* state = fp16->as_dict().find("loss_scaler"); state && state->is_dict())
    scaler_.load_state_dict(state->as_dict(), "the resumed checkpoint");
}

void Fp16OptimizerHook::after_train_iter(Runner& runner) {
  Optimizer& optimizer = runner.optimizer();
  optimizer.zero_grad();
  runner.backward(scaler_.scale_loss(runner.outputs().loss));
  const bool found_inf = scaler_.unscale(optimizer.parameters());
  if (grad_clip_) {
    const double norm = optimizer.clip_grad_norm(*grad_clip_);
    runner.log_buffer().update("grad_norm", norm, runner.outputs().num_samples);
  }
  if (!found_inf) optimizer.step();
  scaler_.update(found_inf, fp16_.static_scale);
  config::Value* fp16 = runner.meta().find("fp16");
  if (!fp16 || !fp16->is_dict()) {
    runner.meta().set("fp16", config::Dict{});
    fp16 = runner.meta().find("fp16");
  }
  fp16->as_dict().set("loss_scaler", scaler_.state_dict());
}

ForwardTrain autocast_forward(ForwardTrain forward) {
  return [forward = std::move(forward)](const DetBatch& batch) {
    AutocastGuard autocast;
    return forward(batch);
  };
}

}  // namespace cppdet::engine
