#pragma once
// A Conv2d (+ the BatchNorm folded into it) prepared once for oneDNN (MKL-DNN) inference on the
// CPU: the folded weight is reordered into oneDNN's blocked layout, so each call runs
// at::mkldnn_convolution on an activation that stays in the MKL-DNN layout (x.is_mkldnn()).
// The numbers are those of conv -> eval-mode BN up to float rounding.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <vector>

namespace cppdet::models {

// Whether this LibTorch build has MKL-DNN (at::hasMKLDNN()).
bool mkldnn_available();

class MkldnnConv {
 public:
  MkldnnConv() = default;
  // `bn` may be null (conv alone). Weights are copied: later changes to the modules are not seen.
  MkldnnConv(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl* bn);
  // x: MKL-DNN float tensor [N, C_in, H, W] -> MKL-DNN [N, C_out, H', W'].
  torch::Tensor operator()(const torch::Tensor& x) const;

 private:
  torch::Tensor weight_;  // MKL-DNN layout
  torch::Tensor bias_;    // dense [C_out]
  std::vector<int64_t> padding_, stride_, dilation_;
  int64_t groups_ = 1;
};

}  // namespace cppdet::models
