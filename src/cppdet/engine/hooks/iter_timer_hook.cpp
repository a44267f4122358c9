#include "cppdet/engine/hooks/iter_timer_hook.h"

#include "cppdet/engine/runner.h"

namespace cppdet::engine {

void IterTimerHook::before_train_iter(Runner& runner) {
  runner.log_buffer().update("data_time", std::chrono::duration<double>(Clock::now() - start_).count());
}

void IterTimerHook::after_train_iter(Runner& runner) {
  runner.log_buffer().update("time", std::chrono::duration<double>(Clock::now() - start_).count());
  start_ = Clock::now();
}

}  // namespace cppdet::engine
