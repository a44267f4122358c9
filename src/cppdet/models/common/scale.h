#pragma once
// mmcv's Scale: one learnable scalar ("scale", 0-d float32, initial value `scale`) that
// multiplies its input. FCOS / ATSS / GFL heads keep one per pyramid level.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace cppdet::models {

class ScaleImpl : public torch::nn::Module {
 public:
  explicit ScaleImpl(double scale = 1.0);
  torch::Tensor forward(const torch::Tensor& x) { return x * scale; }

  torch::Tensor scale;  // []
};
TORCH_MODULE(Scale);

}  // namespace cppdet::models
