#pragma once
// mmcv's LrUpdaterHook (priority VERY_HIGH): sets every param group's lr from the schedule
// and the group's initial_lr — the regular lr at each epoch start (by_epoch) or iteration,
// the warmup lr during warmup.
#include "cppdet/engine/hook.h"
#include "cppdet/engine/lr_schedule.h"

namespace cppdet::engine {

class LrUpdaterHook : public Hook {
 public:
  explicit LrUpdaterHook(LrSchedule schedule) : schedule_(std::move(schedule)) {}
  std::string name() const override;
  Priority priority() const override { return Priority::VeryHigh; }

  void before_run(Runner& runner) override;
  void before_train_epoch(Runner& runner) override;
  void before_train_iter(Runner& runner) override;

 private:
  void apply(Runner& runner);

  LrSchedule schedule_;
  std::vector<double> base_lrs_;
};

}  // namespace cppdet::engine
