#pragma once
// Learning-rate schedules with mmcv 1.x LrUpdaterHook semantics (config key `lr_config`).
//
// The lr of every param group is a pure function of the training position:
//   regular lr:  policy(base_lr, progress) where progress is the 0-based epoch (by_epoch=true,
//                set at each epoch start) or the 0-based global iteration (by_epoch=false);
//   warmup:      for global iteration i < warmup_iters the regular lr is scaled:
//                  linear    lr * (1 - (1 - i / warmup_iters) * (1 - warmup_ratio))
//                  constant  lr * warmup_ratio
//                  exp       lr * warmup_ratio ^ (1 - i / warmup_iters)
//                warmup is per iteration even with by_epoch=true; warmup_by_epoch=true counts
//                warmup_iters in epochs (warmup_iters * iterations per epoch).
// Policies: step (step int or list of epochs/iters, gamma, min_lr), CosineAnnealing (min_lr or
// min_lr_ratio), fixed, poly (power, min_lr), exp (gamma). The arithmetic follows mmcv's
// expression order so values equal Python's bit for bit.
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::engine {

// Where training stands when an lr is needed.
struct TrainProgress {
  int64_t epoch = 0;       // 0-based current epoch
  int64_t iter = 0;        // 0-based global iteration about to run
  int64_t epoch_len = 0;   // iterations per epoch (len(data_loader))
  int64_t max_epochs = 0;  // EpochBasedRunner; for IterBasedRunner 0
  int64_t max_iters = 0;   // total iterations of the run
};

struct LrScheduleOptions {
  enum class Policy { Step, CosineAnnealing, Fixed, Poly, Exp };
  enum class Warmup { None, Linear, Constant, Exp };

  Policy policy = Policy::Fixed;
  bool by_epoch = true;
  Warmup warmup = Warmup::None;
  int64_t warmup_iters = 0;
  double warmup_ratio = 0.1;
  bool warmup_by_epoch = false;

  std::vector<int64_t> steps;    // step: decay points (a single int means "every steps[0]")
  bool step_is_period = false;   // step given as an int
  double gamma = 0.1;            // step / exp
  std::optional<double> min_lr;  // step, CosineAnnealing, poly (poly default 0)
  std::optional<double> min_lr_ratio;  // CosineAnnealing
  double power = 1.0;            // poly
};

// Reads a config `lr_config` dict (policy=..., by_epoch, warmup, ...). Policy names follow
// mmcv: an all-lowercase name is title-cased ("step" -> Step, "fixed" -> Fixed), others are
// used as given ("CosineAnnealing"). Unknown policies/keys throw ConfigError naming `path`.
LrScheduleOptions lr_schedule_from_config(const config::Value& lr_config, const std::string& path = "lr_config");

class LrSchedule {
 public:
  explicit LrSchedule(LrScheduleOptions options);

  const LrScheduleOptions& options() const { return options_; }
  // The regular (post-warmup) lr for one group's base lr.
  double regular_lr(double base_lr, const TrainProgress& p) const;
  // The lr the optimizer uses for the iteration at `p` (warmup applied).
  double lr(double base_lr, const TrainProgress& p) const;
  // Warmup length in iterations for this run (resolves warmup_by_epoch).
  int64_t warmup_iters(const TrainProgress& p) const;

 private:
  LrScheduleOptions options_;
};

}  // namespace cppdet::engine
