#pragma once
// mmcv's fuse_conv_bn for inference: each BatchNorm that follows a convolution (ResNet's
// conv1/bn1, the blocks' convN/bnN and downsample.0/.1, ConvModule's conv/bn) is folded into
// that convolution and removed from the model:
//
//   scale = gamma / sqrt(running_var + eps)              per output channel
//   w' = w * scale,   b' = (b - running_mean) * scale + beta   (b = 0 for a conv without bias)
//
// The BatchNorm's state_dict keys disappear and the conv gains a "bias", as when mmcv puts an
// nn.Identity in its place. Outputs equal the unfused eval-mode model up to float rounding.
// Use it after loading the weights, on a model that will only run inference.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <utility>

namespace cppdet::models {

// Implemented by the modules that own conv -> BatchNorm pairs: folds their own pairs (not those
// of their submodules) and returns how many.
class FusesConvBn {
 public:
  virtual ~FusesConvBn() = default;
  virtual int64_t fuse_conv_bn() = 0;
};

// Folds every pair in `model` and its submodules; returns the number of BatchNorms removed.
int64_t fuse_conv_bn(torch::nn::Module& model);

// conv's (weight [C_out, C_in, kh, kw], bias [C_out]) with `bn` (eval mode) folded in, as new
// tensors; the modules are not changed. `bn` null: conv's own weight and bias (zeros without).
std::pair<torch::Tensor, torch::Tensor> folded_conv_bn(const torch::nn::Conv2dImpl& conv,
                                                       const torch::nn::BatchNorm2dImpl* bn);

// Puts the folded weights into `conv` (registering a bias when it has none).
void fold_batch_norm_into(torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn);

}  // namespace cppdet::models
