#pragma once
// int8 calibration: the range of each quantized activation of a detector, observed over the
// calibration images by `cppdet quantize` (per tensor, min/max), and the uint8 quantization
// derived from it. Stored in the int8 checkpoint as ordinary tensors beside the fp32 weights:
//
//   int8_calibration.<point>.min          float32 scalar, smallest value seen
//   int8_calibration.<point>.max          float32 scalar, largest value seen
//   int8_calibration.<point>.scale        float64 scalar, quint8 scale
//   int8_calibration.<point>.zero_point   int64 scalar, quint8 zero point
//
// <point> names where an activation is quantized: "<layer>.input" (a float tensor entering an
// int8 layer), "<layer>.output" (a layer's result), "<block>.add" (a residual or top-down sum),
// with <layer> a module's state_dict prefix ("backbone.layer1.0.conv1", "neck.fpn_convs.0.conv").
#include <torch/types.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "cppdet/io/checkpoint.h"

namespace cppdet::models {

struct ActivationRange {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
};

// quint8 affine quantization: x ~ scale * (q - zero_point), q in [0, 255].
struct QuantParams {
  double scale = 1.0;
  int64_t zero_point = 0;
};

// The quint8 parameters that cover `range` widened to include 0 (so that 0, ReLU's floor and
// the zero padding, is exact): scale = (max - min) / 255, zero_point = round(-min / scale).
QuantParams uint8_params(const ActivationRange& range);

class CalibrationTable {
 public:
  static constexpr const char* kPrefix = "int8_calibration.";

  // Widens `point`'s range by x's min and max (x: a float tensor, any layout).
  void observe(const std::string& point, const torch::Tensor& x);
  // The point's quint8 parameters (stored ones when read from a checkpoint, else derived from
  // the observed range). UserError naming the point when it has none.
  QuantParams params(const std::string& point) const;
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

  // The table as int8_calibration.* tensors, in point order.
  io::StateDict to_state_dict() const;
  // Moves the int8_calibration.* entries out of `state_dict` into a table (empty when there are
  // none). FileFormatError naming `file` and the key for a malformed or incomplete entry.
  static CalibrationTable take_from(io::StateDict& state_dict, const std::string& file);

 private:
  struct Entry {
    ActivationRange range;
    bool has_params = false;  // read from a file
    QuantParams params;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace cppdet::models
