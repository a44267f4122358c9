#pragma once
// Interface of necks: multi-level features -> multi-level features (FPN and friends).
#include <torch/nn/module.h>
#include <torch/types.h>

#include <vector>

namespace cppdet::models {

class Neck : public torch::nn::Module {
 public:
  virtual std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& inputs) = 0;
};

}  // namespace cppdet::models
