#include "cppdet/models/precision/prepared_linear.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>

namespace cppdet::models {
namespace {

using PackedLinear = c10::intrusive_ptr<LinearPackedParamsBase>;

// qint8 weight per output channel (symmetric, scale max|w| / 127), packed with its float bias.
PackedLinear pack_linear_int8(const torch::Tensor& weight, const torch::Tensor& bias) {
  const torch::Tensor scales = (weight.abs().amax({1}) / 127.0).clamp_min(1e-8).to(torch::kFloat64);
  const torch::Tensor qweight =
      at::quantize_per_channel(weight, scales, torch::zeros_like(scales, torch::kLong), 0, at::kQInt8);
  static const auto prepack = c10::Dispatcher::singleton()
                                  .findSchemaOrThrow("quantized::linear_prepack", "")
                                  .typed<PackedLinear(at::Tensor, c10::optional<at::Tensor>)>();
  return prepack.call(qweight, bias);
}

}  // namespace

struct PreparedLinear::Impl {
  PrecisionMode mode;
  bool relu, float_output;
  torch::Tensor weight, bias;  // float32; bf16 in kBf16; none in kInt8 (packed) unless float_output
  PackedLinear packed;
  ActivationPoint input, output;

  torch::Tensor linear(const torch::Tensor& x) const {
    torch::Tensor y = at::linear(x, weight, bias);
    return relu ? y.relu_() : y;
  }
};

PreparedLinear::PreparedLinear(const torch::nn::LinearImpl& linear, const InferencePrecision& precision,
                               const std::string& name, bool relu, bool float_output) {
  torch::NoGradGuard no_grad;
  auto impl = std::make_shared<Impl>();
  impl->mode = precision.mode;
  impl->relu = relu;
  impl->float_output = float_output;
  impl->weight = linear.weight.detach().clone();
  impl->bias = linear.bias.defined() ? linear.bias.detach().clone() : torch::zeros({impl->weight.size(0)});
  if (precision.mode == PrecisionMode::kBf16) {
    impl->weight = impl->weight.to(torch::kBFloat16);
    impl->bias = impl->bias.to(torch::kBFloat16);
  } else if (precision.mode == PrecisionMode::kInt8 && !float_output) {
    impl->packed = pack_linear_int8(impl->weight, impl->bias);
    impl->weight = impl->bias = torch::Tensor();  // the packed copy is all int8 needs
  }
  if (precision.mode == PrecisionMode::kInt8 || precision.mode == PrecisionMode::kCalibrate) {
    impl->input = ActivationPoint(precision, name + ".input");
    if (!float_output) impl->output = ActivationPoint(precision, name + ".output");
  }
  impl_ = std::move(impl);
}

torch::Tensor PreparedLinear::operator()(const torch::Tensor& x) const {
  const Impl& p = *impl_;
  switch (p.mode) {
    case PrecisionMode::kFp32:
      return p.linear(to_float(x));
    case PrecisionMode::kBf16: {
      torch::Tensor y = p.linear(x.is_quantized() || x.is_mkldnn() ? to_float(x).to(torch::kBFloat16) : x.to(torch::kBFloat16));
      return p.float_output ? y.to(torch::kFloat32) : y;
    }
    case PrecisionMode::kInt8: {
      if (p.float_output) return p.linear(to_float(x));
      const torch::Tensor q = p.input.quantize(x);
      const QuantParams& out = p.output.params();
      return p.relu ? p.packed->apply_relu(q, out.scale, out.zero_point) : p.packed->apply(q, out.scale, out.zero_point);
    }
    case PrecisionMode::kCalibrate: {
      torch::Tensor y = p.linear(p.input.observe(to_float(x)));
      return p.float_output ? y : p.output.observe(y);
    }
  }
  return {};
}

}  // namespace cppdet::models
