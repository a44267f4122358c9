#include "cppdet/models/precision/calibration.h"

#include <algorithm>
#include <cmath>

#include "cppdet/core/error.h"

namespace cppdet::models {
namespace {

constexpr const char* kFields[] = {"min", "max", "scale", "zero_point"};

}  // namespace

QuantParams uint8_params(const ActivationRange& range) {
  const double lo = std::min(0.0, static_cast<double>(range.min));
  const double hi = std::max(0.0, static_cast<double>(range.max));
  QuantParams q;
  q.scale = std::max((hi - lo) / 255.0, 1e-8);
  q.zero_point = std::clamp<int64_t>(static_cast<int64_t>(std::nearbyint(-lo / q.scale)), 0, 255);
  return q;
}

void CalibrationTable::observe(const std::string& point, const torch::Tensor& x) {
  if (x.numel() == 0) return;
  const auto [lo, hi] = torch::aminmax(x.is_mkldnn() ? x.to_dense() : x);
  ActivationRange& r = entries_[point].range;
  r.min = std::min(r.min, lo.item<float>());
  r.max = std::max(r.max, hi.item<float>());
}

QuantParams CalibrationTable::params(const std::string& point) const {
  const auto it = entries_.find(point);
  if (it == entries_.end() || (!it->second.has_params && !(it->second.range.min <= it->second.range.max)))
    throw UserError("int8: no calibration for activation '" + point +
                    "' (the checkpoint was calibrated for another model, or calibration never reached this layer)");
  return it->second.has_params ? it->second.params : uint8_params(it->second.range);
}

io::StateDict CalibrationTable::to_state_dict() const {
  io::StateDict out;
  for (const auto& [point, entry] : entries_) {
    const QuantParams q = params(point);
    const std::string key = std::string(kPrefix) + point + ".";
    out.emplace_back(key + "min", torch::tensor(entry.range.min, torch::kFloat32));
    out.emplace_back(key + "max", torch::tensor(entry.range.max, torch::kFloat32));
    out.emplace_back(key + "scale", torch::tensor(q.scale, torch::kFloat64));
    out.emplace_back(key + "zero_point", torch::tensor(q.zero_point, torch::kInt64));
  }
  return out;
}

CalibrationTable CalibrationTable::take_from(io::StateDict& state_dict, const std::string& file) {
  CalibrationTable table;
  std::map<std::string, int> seen;  // point -> bit set of the fields read
  const std::string prefix = kPrefix;
  auto keep = std::stable_partition(state_dict.begin(), state_dict.end(),
                                    [&](const auto& kv) { return kv.first.rfind(prefix, 0) != 0; });
  for (auto it = keep; it != state_dict.end(); ++it) {
    const std::string& key = it->first;
    const size_t dot = key.rfind('.');
    const std::string point = key.substr(prefix.size(), dot == std::string::npos || dot < prefix.size() ? 0 : dot - prefix.size());
    const std::string field = dot == std::string::npos ? "" : key.substr(dot + 1);
    const auto f = std::find(std::begin(kFields), std::end(kFields), field);
    const torch::Tensor& t = it->second;
    const bool wants_float = field != "zero_point";
    if (point.empty() || f == std::end(kFields) || t.numel() != 1 || t.is_floating_point() != wants_float)
      throw FileFormatError(file + ": malformed int8 calibration entry '" + key +
                            "' (expected <point>.min/.max/.scale (one float) or .zero_point (one integer))");
    Entry& e = table.entries_[point];
    if (field == "min") e.range.min = t.item<float>();
    if (field == "max") e.range.max = t.item<float>();
    if (field == "scale") e.params.scale = t.item<double>();
    if (field == "zero_point") e.params.zero_point = t.item<int64_t>();
    seen[point] |= 1 << (f - std::begin(kFields));
  }
  for (const auto& [point, bits] : seen) {
    Entry& e = table.entries_[point];
    if (bits != 15 || !(e.params.scale > 0) || e.params.zero_point < 0 || e.params.zero_point > 255)
      throw FileFormatError(file + ": int8 calibration of '" + point +
                            "' needs min, max, a positive scale and a zero_point in [0, 255]");
    e.has_params = true;
  }
  state_dict.erase(keep, state_dict.end());
  return table;
}

}  // namespace cppdet::models
