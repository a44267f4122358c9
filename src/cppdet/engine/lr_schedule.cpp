#include "cppdet/engine/lr_schedule.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::engine {
namespace {

constexpr double kPi = 3.14159265358979323846;

// mmcv's annealing_cos(start, end, factor, weight=1).
double annealing_cos(double start, double end, double factor) {
  const double cos_out = std::cos(kPi * factor) + 1;
  return end + 0.5 * 1.0 * (start - end) * cos_out;
}

std::string mmcv_policy_name(std::string name) {
  bool lower = true;
  for (char c : name) lower = lower && !std::isupper(static_cast<unsigned char>(c));
  if (!lower) return name;
  // Python's str.title(): upper-case the first letter of each alphabetic run.
  bool start = true;
  for (char& c : name) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c));
    if (alpha && start) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    start = !alpha;
  }
  return name;
}

}  // namespace

LrScheduleOptions lr_schedule_from_config(const config::Value& lr_config, const std::string& path) {
  config::ConfigReader r(lr_config, path);
  LrScheduleOptions o;
  const std::string policy = mmcv_policy_name(r.get_string("policy"));
  if (policy == "Step") {
    o.policy = LrScheduleOptions::Policy::Step;
    const config::Value& step = r.get("step");
    if (step.is_int()) {
      o.steps = {step.as_int()};
      o.step_is_period = true;
    } else {
      o.steps = r.get_ints("step");
    }
    for (int64_t s : o.steps)
      if (s <= 0) throw ConfigError(r.path_of("step") + ": steps must be positive");
    o.gamma = r.get_number("gamma", 0.1);
  } else if (policy == "CosineAnnealing") {
    o.policy = LrScheduleOptions::Policy::CosineAnnealing;
    if (const config::Value* v = r.get_optional("min_lr_ratio")) o.min_lr_ratio = v->as_number();
    if (o.min_lr_ratio && r.get_optional("min_lr"))
      throw ConfigError(path + ": give only one of min_lr and min_lr_ratio");
  } else if (policy == "Fixed") {
    o.policy = LrScheduleOptions::Policy::Fixed;
  } else if (policy == "Poly") {
    o.policy = LrScheduleOptions::Policy::Poly;
    o.power = r.get_number("power", 1.0);
    o.min_lr = 0.0;
  } else if (policy == "Exp") {
    o.policy = LrScheduleOptions::Policy::Exp;
    o.gamma = r.get_number("gamma");
  } else {
    throw ConfigError(r.path_of("policy") + ": unknown lr policy '" + policy +
                      "' (known: step, CosineAnnealing, fixed, poly, exp)");
  }
  if (o.policy != LrScheduleOptions::Policy::Fixed && o.policy != LrScheduleOptions::Policy::Exp) {
    if (const config::Value* v = r.get_optional("min_lr")) o.min_lr = v->as_number();
  }
  if (o.policy == LrScheduleOptions::Policy::CosineAnnealing && !o.min_lr && !o.min_lr_ratio)
    throw ConfigError(path + ": CosineAnnealing needs min_lr or min_lr_ratio");

  o.by_epoch = r.get_bool("by_epoch", true);
  if (const config::Value* w = r.get_optional("warmup")) {
    const std::string name = w->as_string();
    if (name == "linear") o.warmup = LrScheduleOptions::Warmup::Linear;
    else if (name == "constant") o.warmup = LrScheduleOptions::Warmup::Constant;
    else if (name == "exp") o.warmup = LrScheduleOptions::Warmup::Exp;
    else throw ConfigError(r.path_of("warmup") + ": '" + name + "' is not a warmup type (constant, linear, exp)");
    o.warmup_iters = r.get_int("warmup_iters");
    if (o.warmup_iters <= 0) throw ConfigError(r.path_of("warmup_iters") + ": must be positive when warmup is set");
    o.warmup_ratio = r.get_number("warmup_ratio", 0.1);
    if (!(o.warmup_ratio > 0 && o.warmup_ratio <= 1))
      throw ConfigError(r.path_of("warmup_ratio") + ": must be in (0, 1]");
    o.warmup_by_epoch = r.get_bool("warmup_by_epoch", false);
  } else {
    r.ignore({"warmup_iters", "warmup_ratio", "warmup_by_epoch"});
  }
  r.finish();
  return o;
}

LrSchedule::LrSchedule(LrScheduleOptions options) : options_(std::move(options)) {}

double LrSchedule::regular_lr(double base_lr, const TrainProgress& p) const {
  using Policy = LrScheduleOptions::Policy;
  const int64_t progress = options_.by_epoch ? p.epoch : p.iter;
  const int64_t max_progress = options_.by_epoch ? p.max_epochs : p.max_iters;
  switch (options_.policy) {
    case Policy::Fixed:
      return base_lr;
    case Policy::Step: {
      int64_t exp = 0;
      if (options_.step_is_period) {
        exp = progress / options_.steps[0];
      } else {
        exp = static_cast<int64_t>(options_.steps.size());
        for (size_t i = 0; i < options_.steps.size(); ++i) {
          if (progress < options_.steps[i]) {
            exp = static_cast<int64_t>(i);
            break;
          }
        }
      }
      double lr = base_lr * std::pow(options_.gamma, static_cast<double>(exp));
      if (options_.min_lr) lr = std::max(lr, *options_.min_lr);
      return lr;
    }
    case Policy::CosineAnnealing: {
      const double target = options_.min_lr_ratio ? base_lr * *options_.min_lr_ratio : *options_.min_lr;
      return annealing_cos(base_lr, target, static_cast<double>(progress) / static_cast<double>(max_progress));
    }
    case Policy::Poly: {
      const double coeff =
          std::pow(1 - static_cast<double>(progress) / static_cast<double>(max_progress), options_.power);
      return (base_lr - *options_.min_lr) * coeff + *options_.min_lr;
    }
    case Policy::Exp:
      return base_lr * std::pow(options_.gamma, static_cast<double>(progress));
  }
  return base_lr;
}

int64_t LrSchedule::warmup_iters(const TrainProgress& p) const {
  return options_.warmup_by_epoch ? options_.warmup_iters * p.epoch_len : options_.warmup_iters;
}

double LrSchedule::lr(double base_lr, const TrainProgress& p) const {
  using Warmup = LrScheduleOptions::Warmup;
  const double regular = regular_lr(base_lr, p);
  const int64_t warmup = warmup_iters(p);
  if (options_.warmup == Warmup::None || p.iter >= warmup) return regular;
  const double i = static_cast<double>(p.iter);
  const double n = static_cast<double>(warmup);
  switch (options_.warmup) {
    case Warmup::Constant:
      return regular * options_.warmup_ratio;
    case Warmup::Linear: {
      const double k = (1 - i / n) * (1 - options_.warmup_ratio);
      return regular * (1 - k);
    }
    case Warmup::Exp: {
      const double k = std::pow(options_.warmup_ratio, 1 - i / n);
      return regular * k;
    }
    case Warmup::None:
      break;
  }
  return regular;
}

}  // namespace cppdet::engine
