#include "cppdet/models/common/checkpoint.h"

#include <torch/autograd.h>

namespace cppdet::models {
namespace {

// The function to recompute, carried in the autograd context (saved_data holds IValues).
struct RecomputeFn : torch::CustomClassHolder {
  explicit RecomputeFn(std::function<torch::Tensor(const torch::Tensor&)> f) : fn(std::move(f)) {}
  std::function<torch::Tensor(const torch::Tensor&)> fn;
};

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  // Runs with grad mode off (autograd::Function does that): no graph is kept.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
    ctx->saved_data["fn"] = c10::IValue::make_capsule(c10::make_intrusive<RecomputeFn>(fn));
    ctx->save_for_backward({x});
    return fn(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    const auto recompute = ctx->saved_data["fn"].toCapsule();
    const auto* holder = static_cast<const RecomputeFn*>(recompute.get());
    torch::Tensor y;
    {
      torch::AutoGradMode enable(true);
      y = holder->fn(x);
    }
    // Re-entrant backward through the recomputed graph: accumulates into the parameters'
    // .grad and gives x's gradient.
    torch::autograd::backward({y}, {grads[0]});
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpoint(const std::function<torch::Tensor(const torch::Tensor&)>& fn, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled() || !x.requires_grad()) return fn(x);
  return CheckpointFunction::apply(x, fn);
}

}  // namespace cppdet::models
