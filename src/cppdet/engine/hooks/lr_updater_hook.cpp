#include "cppdet/engine/hooks/lr_updater_hook.h"

#include "cppdet/core/error.h"
#include "cppdet/engine/runner.h"

namespace cppdet::engine {

std::string LrUpdaterHook::name() const {
  using Policy = LrScheduleOptions::Policy;
  switch (schedule_.options().policy) {
    case Policy::Step: return "StepLrUpdaterHook";
    case Policy::CosineAnnealing: return "CosineAnnealingLrUpdaterHook";
    case Policy::Fixed: return "FixedLrUpdaterHook";
    case Policy::Poly: return "PolyLrUpdaterHook";
    case Policy::Exp: return "ExpLrUpdaterHook";
  }
  return "LrUpdaterHook";
}

void LrUpdaterHook::before_run(Runner& runner) {
  if (!runner.by_epoch() && (schedule_.options().by_epoch || schedule_.options().warmup_by_epoch))
    throw ConfigError("lr_config: an IterBasedRunner needs by_epoch=False (and warmup_by_epoch=False)");
  base_lrs_ = runner.optimizer().initial_lrs();
}

void LrUpdaterHook::apply(Runner& runner) {
  const TrainProgress p = runner.progress();
  for (size_t g = 0; g < base_lrs_.size(); ++g) runner.optimizer().set_lr(g, schedule_.lr(base_lrs_[g], p));
}

void LrUpdaterHook::before_train_epoch(Runner& runner) {
  if (schedule_.options().by_epoch) apply(runner);
}

void LrUpdaterHook::before_train_iter(Runner& runner) {
  const LrScheduleOptions& o = schedule_.options();
  if (!o.by_epoch) {
    apply(runner);
    return;
  }
  // by_epoch: the regular lr was set at the epoch start; only warmup changes it per iteration
  // (at iteration warmup_iters, apply() restores the regular lr).
  if (o.warmup != LrScheduleOptions::Warmup::None && runner.iter() <= schedule_.warmup_iters(runner.progress()))
    apply(runner);
}

}  // namespace cppdet::engine
