#pragma once
// A Linear (with the ReLU after it fused) prepared once for CPU inference in one precision,
// like PreparedConv (prepared_conv.h): bf16 weight (kBf16), qint8 per-output-channel weight
// packed for LibTorch's oneDNN quantized linear (kInt8; a float input is quantized with
// "<name>.input", the result is quint8 with "<name>.output"'s scale), or float32 recording both
// points (kCalibrate). Input [N, in_features] in any activation form (activation.h);
// float_output: the result is float32 [N, out_features] (kInt8: computed in float32 too).
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <memory>
#include <string>

#include "cppdet/models/precision/activation.h"

namespace cppdet::models {

class PreparedLinear {
 public:
  PreparedLinear() = default;
  // `name`: the linear's state_dict prefix, naming its activation points.
  PreparedLinear(const torch::nn::LinearImpl& linear, const InferencePrecision& precision, const std::string& name,
                 bool relu, bool float_output);
  torch::Tensor operator()(const torch::Tensor& x) const;
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace cppdet::models
