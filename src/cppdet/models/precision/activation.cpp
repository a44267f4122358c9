#include "cppdet/models/precision/activation.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include "cppdet/core/error.h"

namespace cppdet::models {
namespace {

// quantized::add / quantized::add_relu (qa, qb, scale, zero_point) -> qc, through the dispatcher
// (LibTorch declares no C++ function for them).
torch::Tensor quantized_add(const torch::Tensor& a, const torch::Tensor& b, bool relu, const QuantParams& q) {
  static const auto add = c10::Dispatcher::singleton()
                              .findSchemaOrThrow("quantized::add", "")
                              .typed<at::Tensor(at::Tensor, at::Tensor, double, int64_t)>();
  static const auto add_relu = c10::Dispatcher::singleton()
                                   .findSchemaOrThrow("quantized::add_relu", "")
                                   .typed<at::Tensor(at::Tensor, at::Tensor, double, int64_t)>();
  return (relu ? add_relu : add).call(a, b, q.scale, q.zero_point);
}

}  // namespace

ActivationPoint::ActivationPoint(const InferencePrecision& precision, std::string name) : name_(std::move(name)) {
  if (precision.mode == PrecisionMode::kCalibrate) table_ = precision.calibration;
  if (precision.mode == PrecisionMode::kInt8) {
    if (!precision.calibration) throw UserError("int8 inference needs a calibrated checkpoint (cppdet quantize)");
    params_ = precision.calibration->params(name_);
  }
}

const torch::Tensor& ActivationPoint::observe(const torch::Tensor& x) const {
  if (table_) table_->observe(name_, x);
  return x;
}

torch::Tensor ActivationPoint::quantize(const torch::Tensor& x) const {
  if (x.is_quantized()) return x;
  const torch::Tensor f = to_float(x);
  return at::quantize_per_tensor(f.dim() == 4 ? f.contiguous(at::MemoryFormat::ChannelsLast) : f.contiguous(),
                                 params_.scale, params_.zero_point, at::kQUInt8);
}

torch::Tensor to_float(const torch::Tensor& x) {
  if (x.is_quantized()) return x.dequantize();
  const torch::Tensor dense = x.is_mkldnn() ? x.to_dense() : x;
  return dense.scalar_type() == torch::kFloat32 ? dense : dense.to(torch::kFloat32);
}

torch::Tensor add_activations(torch::Tensor a, const torch::Tensor& b, bool relu, PrecisionMode mode,
                              const ActivationPoint& sum) {
  if (mode == PrecisionMode::kInt8) return quantized_add(sum.quantize(a), sum.quantize(b), relu, sum.params());
  if (mode == PrecisionMode::kCalibrate) {
    torch::Tensor y = to_float(a) + to_float(b);
    if (relu) y.relu_();
    sum.observe(y);
    return y;
  }
  a.add_(b);
  return relu ? a.relu_() : a;
}

const char* mode_name(PrecisionMode mode) {
  switch (mode) {
    case PrecisionMode::kFp32: return "fp32";
    case PrecisionMode::kBf16: return "bf16";
    case PrecisionMode::kInt8: return "int8";
    case PrecisionMode::kCalibrate: return "calibration";
  }
  return "?";
}

}  // namespace cppdet::models
