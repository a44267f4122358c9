#pragma once
// A Conv2d or ConvTranspose2d (with the BatchNorm after it folded in, and the ReLU after it
// fused) prepared once for CPU inference in one precision (activation.h):
//
//   kFp32 / kBf16 with mkldnn_layout: the weight reordered into oneDNN's blocked layout (bf16:
//         converted first); the input must be in MKL-DNN layout of that dtype, and so is the
//         result (the ResNet plan).
//   kBf16 dense: bf16 channels-last weight; any input is converted to bf16 channels-last. A
//         transposed conv runs in float32 on the upcast input instead: LibTorch 1.13's CPU
//         conv_transpose2d gives wrong results or shape errors for bfloat16 tensors.
//   kInt8: qint8 weight, per output channel (per tensor for a transposed conv, all LibTorch's
//         oneDNN kernel takes), packed once; a float input is quantized with "<name>.input",
//         the result is quint8 with "<name>.output"'s scale.
//   kCalibrate: float convolution recording "<name>.input" and "<name>.output".
// float_output (heads' last layers): the result is dense float32; in kInt8 the layer itself
// runs in float32 on the dequantized input (a prediction layer's logits and deltas keep full
// resolution).
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cppdet/models/precision/activation.h"

namespace cppdet::models {

// A convolution's folded parameters and geometry (copies).
struct ConvWeights {
  torch::Tensor weight;  // [C_out, C_in/groups, kh, kw]; transposed: [C_in, C_out/groups, kh, kw]
  torch::Tensor bias;    // [C_out]
  std::vector<int64_t> stride, padding, dilation, output_padding;
  int64_t groups = 1;
  bool transposed = false;
};

// conv (zero-padded, symmetric) with `bn` (eval mode, may be null) folded in. UserError otherwise.
ConvWeights conv_weights(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl* bn);
ConvWeights deconv_weights(const torch::nn::ConvTranspose2dImpl& deconv);

struct PreparedConvOptions {
  bool relu = false;           // ReLU fused after the conv
  bool float_output = false;   // dense float32 result (a head's prediction layer)
  bool mkldnn_layout = false;  // kFp32/kBf16: MKL-DNN layout in and out
};

class PreparedConv {
 public:
  PreparedConv() = default;
  // `name`: the conv's state_dict prefix, naming its activation points.
  PreparedConv(const ConvWeights& weights, const InferencePrecision& precision, const std::string& name,
               PreparedConvOptions options);
  torch::Tensor operator()(const torch::Tensor& x) const;
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace cppdet::models
