#pragma once
// Interface of RoI feature extractors.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <vector>

namespace cppdet::models {

class RoIExtractor : public torch::nn::Module {
 public:
  // feats: multi-level maps (only the first num_inputs() are used); rois [K, 5]
  // (batch_index, x1, y1, x2, y2). Returns [K, C, out, out].
  virtual torch::Tensor forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois) = 0;
  virtual int64_t num_inputs() const = 0;
};

}  // namespace cppdet::models
