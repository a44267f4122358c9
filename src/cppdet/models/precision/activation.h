#pragma once
// How a prepared layer runs (InferencePrecision) and the activations that flow between prepared
// layers. The activation's form depends on the mode:
//   kFp32      float (MKL-DNN layout inside the ResNet plan, dense elsewhere)
//   kBf16      bfloat16 (MKL-DNN layout inside the ResNet plan, dense channels-last elsewhere)
//   kInt8      quint8, per-tensor affine, channels-last (at::quantize_per_tensor)
//   kCalibrate dense float; every ActivationPoint records the range it sees
// Layers accept any of these forms and convert what they get; heads' final layers return
// dense float for post-processing.
#include <torch/types.h>

#include <memory>
#include <string>

#include "cppdet/models/precision/calibration.h"

namespace cppdet::models {

enum class PrecisionMode {
  kFp32,       // float32
  kBf16,       // bfloat16 convolutions and linears (oneDNN), float32 accumulation
  kInt8,       // quint8 activations x qint8 weights (LibTorch's oneDNN quantized engine)
  kCalibrate,  // float32, recording activation ranges into `calibration` (cppdet quantize)
};

struct InferencePrecision {
  PrecisionMode mode = PrecisionMode::kFp32;
  // kFp32 only: false keeps every module on its plain LibTorch layers (no MKL-DNN plan).
  bool mkldnn = true;
  // kInt8: the scales read from the checkpoint; kCalibrate: filled by the run.
  std::shared_ptr<CalibrationTable> calibration;
};

// A named place where an activation is quantized (kInt8) or observed (kCalibrate); inert in
// the other modes. kInt8 reads its scale at construction (UserError when it is not calibrated).
class ActivationPoint {
 public:
  ActivationPoint() = default;
  ActivationPoint(const InferencePrecision& precision, std::string name);
  // kCalibrate: records x's range. Returns x.
  const torch::Tensor& observe(const torch::Tensor& x) const;
  // kInt8: a float activation as quint8 channels-last with this point's scale; an already
  // quantized one unchanged.
  torch::Tensor quantize(const torch::Tensor& x) const;
  const QuantParams& params() const { return params_; }
  const std::string& name() const { return name_; }

 private:
  std::shared_ptr<CalibrationTable> table_;  // kCalibrate only
  std::string name_;
  QuantParams params_;
};

// Any activation form -> dense float32 (dequantized, out of the MKL-DNN layout, upcast).
torch::Tensor to_float(const torch::Tensor& x);

// a + b, then ReLU when `relu`, in `mode`'s form: in place on `a` (fp32/bf16, a must not be
// shared), quantized add with `sum`'s scale (int8), or recorded at `sum` (calibrate).
torch::Tensor add_activations(torch::Tensor a, const torch::Tensor& b, bool relu, PrecisionMode mode,
                              const ActivationPoint& sum);

// The name used in messages: "fp32", "bf16", "int8", "calibration".
const char* mode_name(PrecisionMode mode);

}  // namespace cppdet::models
