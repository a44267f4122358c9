#pragma once
// Interface of backbones: image batch -> multi-level feature maps.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <vector>

namespace cppdet::models {

class Backbone : public torch::nn::Module {
 public:
  // x [N, 3, H, W] -> the selected stages' outputs, finest first.
  virtual std::vector<torch::Tensor> forward(const torch::Tensor& x) = 0;
  // Channels of each returned feature map.
  virtual std::vector<int64_t> out_channels() const = 0;
};

}  // namespace cppdet::models
