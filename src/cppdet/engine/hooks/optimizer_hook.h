#pragma once
// mmcv's OptimizerHook (priority ABOVE_NORMAL): after each iteration zero_grad, backward of
// the total loss (averaging the gradients over the ranks of a distributed run), optional
// gradient-norm clipping (logs grad_norm), step.
#include <optional>

#include "cppdet/engine/hook.h"
#include "cppdet/engine/optimizer.h"

namespace cppdet::engine {

class OptimizerHook : public Hook {
 public:
  explicit OptimizerHook(std::optional<GradClipOptions> grad_clip) : grad_clip_(grad_clip) {}
  std::string name() const override { return "OptimizerHook"; }
  Priority priority() const override { return Priority::AboveNormal; }
  void after_train_iter(Runner& runner) override;

 private:
  std::optional<GradClipOptions> grad_clip_;
};

}  // namespace cppdet::engine
