#pragma once
// mmcv's IterTimerHook (priority LOW): logs `data_time` (waiting for the batch) before and
// `time` (the whole iteration) after every iteration, in seconds.
#include <chrono>

#include "cppdet/engine/hook.h"

namespace cppdet::engine {

class IterTimerHook : public Hook {
 public:
  std::string name() const override { return "IterTimerHook"; }
  Priority priority() const override { return Priority::Low; }
  void before_run(Runner& runner) override { start_ = Clock::now(); }
  void before_train_epoch(Runner& runner) override { start_ = Clock::now(); }
  void before_train_iter(Runner& runner) override;
  void after_train_iter(Runner& runner) override;

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

}  // namespace cppdet::engine
