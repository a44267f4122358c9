#pragma once
// A training hook (mmcv's Hook): called by the Runner at fixed points of the loop. Hooks run
// in ascending priority value; equal priorities keep registration order.
#include <string>

namespace cppdet::engine {

class Runner;

// mmcv's Priority values.
enum class Priority : int {
  Highest = 0,
  VeryHigh = 10,
  High = 30,
  AboveNormal = 40,
  Normal = 50,
  BelowNormal = 60,
  Low = 70,
  VeryLow = 90,
  Lowest = 100,
};

// "VERY_HIGH", "NORMAL", ... (mmcv's names, used in the hook table the runner logs).
const char* priority_name(Priority p);

class Hook {
 public:
  virtual ~Hook() = default;
  virtual std::string name() const = 0;
  virtual Priority priority() const = 0;

  virtual void before_run(Runner&) {}
  virtual void after_run(Runner&) {}
  // EpochBasedRunner only (an IterBasedRunner has no epoch boundaries).
  virtual void before_train_epoch(Runner&) {}
  virtual void after_train_epoch(Runner&) {}
  virtual void before_train_iter(Runner&) {}
  virtual void after_train_iter(Runner&) {}
};

}  // namespace cppdet::engine
