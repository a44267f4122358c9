#include "cppdet/engine/hooks/optimizer_hook.h"

#include <torch/torch.h>

#include "cppdet/engine/runner.h"

namespace cppdet::engine {

void OptimizerHook::after_train_iter(Runner& runner) {
  Optimizer& optimizer = runner.optimizer();
  optimizer.zero_grad();
  runner.backward(runner.outputs().loss);
  if (grad_clip_) {
    const double norm = optimizer.clip_grad_norm(*grad_clip_);
    runner.log_buffer().update("grad_norm", norm, runner.outputs().num_samples);
  }
  optimizer.step();
}

}  // namespace cppdet::engine
