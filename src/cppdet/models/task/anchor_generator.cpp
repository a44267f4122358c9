#include "cppdet/models/task/anchor_generator.h"

#include <cmath>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

AnchorGeneratorOptions AnchorGeneratorOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  AnchorGeneratorOptions o;
  o.strides = read_number_pairs(r.get("strides"), r.path_of("strides"));
  o.ratios = r.get_numbers("ratios");
  if (const config::Value* v = r.get_optional("scales")) {
    (void)v;
    o.scales = r.get_numbers("scales");
  }
  if (const config::Value* v = r.get_optional("octave_base_scale")) {
    if (!v->is_number()) throw ConfigError(r.path_of("octave_base_scale") + ": expected number, got " + v->brief());
    o.octave_base_scale = v->as_number();
  }
  if (const config::Value* v = r.get_optional("scales_per_octave")) {
    if (!v->is_int()) throw ConfigError(r.path_of("scales_per_octave") + ": expected int, got " + v->brief());
    o.scales_per_octave = v->as_int();
  }
  const bool octave = o.octave_base_scale.has_value() && o.scales_per_octave.has_value();
  if (octave == !o.scales.empty())
    throw ConfigError(path + ": give either 'scales' or both 'octave_base_scale' and 'scales_per_octave'");
  if (r.get_optional("base_sizes")) o.base_sizes = r.get_numbers("base_sizes");
  o.scale_major = r.get_bool("scale_major", true);
  if (const config::Value* v = r.get_optional("centers")) o.centers = read_number_pairs(*v, r.path_of("centers"));
  o.center_offset = r.get_number("center_offset", 0.0);
  r.finish();
  if (!o.base_sizes.empty() && o.base_sizes.size() != o.strides.size())
    throw ConfigError(r.path_of("base_sizes") + ": needs one entry per stride (" + std::to_string(o.strides.size()) + ")");
  if (!o.centers.empty() && o.centers.size() != o.strides.size())
    throw ConfigError(r.path_of("centers") + ": needs one entry per stride");
  if (o.center_offset != 0 && !o.centers.empty())
    throw ConfigError(r.path_of("center_offset") + ": cannot be combined with 'centers'");
  if (o.center_offset < 0 || o.center_offset > 1)
    throw ConfigError(r.path_of("center_offset") + ": must be in [0, 1]");
  return o;
}

AnchorGenerator::AnchorGenerator(AnchorGeneratorOptions options) : options_(std::move(options)) {
  if (options_.base_sizes.empty())
    for (const auto& [sw, sh] : options_.strides) options_.base_sizes.push_back(std::min(sw, sh));
  std::vector<double> scales = options_.scales;
  if (scales.empty()) {
    for (int64_t i = 0; i < *options_.scales_per_octave; ++i)
      scales.push_back(std::pow(2.0, static_cast<double>(i) / static_cast<double>(*options_.scales_per_octave)) *
                       *options_.octave_base_scale);
  }
  scales_ = torch::tensor(scales, torch::kFloat64).to(torch::kFloat32);
  const torch::Tensor ratios = torch::tensor(options_.ratios, torch::kFloat64).to(torch::kFloat32);
  const torch::Tensor h_ratios = torch::sqrt(ratios);
  const torch::Tensor w_ratios = h_ratios.reciprocal() * 1;
  for (size_t i = 0; i < options_.base_sizes.size(); ++i) {
    const double base = options_.base_sizes[i];
    double x_center = options_.center_offset * base;
    double y_center = options_.center_offset * base;
    if (!options_.centers.empty()) std::tie(x_center, y_center) = options_.centers[i];
    torch::Tensor ws, hs;
    if (options_.scale_major) {
      ws = (w_ratios.unsqueeze(1) * base * scales_.unsqueeze(0)).view({-1});
      hs = (h_ratios.unsqueeze(1) * base * scales_.unsqueeze(0)).view({-1});
    } else {
      ws = (scales_.unsqueeze(1) * base * w_ratios.unsqueeze(0)).view({-1});
      hs = (scales_.unsqueeze(1) * base * h_ratios.unsqueeze(0)).view({-1});
    }
    base_anchors_.push_back(torch::stack(
        {x_center - 0.5 * ws, y_center - 0.5 * hs, x_center + 0.5 * ws, y_center + 0.5 * hs}, -1));
  }
}

std::vector<int64_t> AnchorGenerator::num_base_priors() const {
  std::vector<int64_t> out;
  for (const auto& b : base_anchors_) out.push_back(b.size(0));
  return out;
}

std::vector<torch::Tensor> AnchorGenerator::grid_priors(const std::vector<FeatSize>& featmap_sizes,
                                                        torch::Dtype dtype, torch::Device device) const {
  TORCH_CHECK(static_cast<int64_t>(featmap_sizes.size()) == num_levels(), "AnchorGenerator: got ",
              featmap_sizes.size(), " feature maps for ", num_levels(), " levels");
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < featmap_sizes.size(); ++i) {
    const auto [feat_h, feat_w] = featmap_sizes[i];
    const auto [stride_w, stride_h] = options_.strides[i];
    const torch::Tensor base = base_anchors_[i].to(device).to(dtype);
    const torch::Tensor shift_x = torch::arange(0, feat_w, torch::TensorOptions().device(device)).to(dtype) * stride_w;
    const torch::Tensor shift_y = torch::arange(0, feat_h, torch::TensorOptions().device(device)).to(dtype) * stride_h;
    const auto [xx, yy] = prior_meshgrid(shift_x, shift_y);
    const torch::Tensor shifts = torch::stack({xx, yy, xx, yy}, -1);
    out.push_back((base.unsqueeze(0) + shifts.unsqueeze(1)).view({-1, 4}));
  }
  return out;
}

std::vector<torch::Tensor> AnchorGenerator::valid_flags(const std::vector<FeatSize>& featmap_sizes,
                                                        FeatSize pad_shape, torch::Device device) const {
  std::vector<torch::Tensor> out;
  const std::vector<int64_t> num_base = num_base_priors();
  for (size_t i = 0; i < featmap_sizes.size(); ++i)
    out.push_back(grid_valid_flags(featmap_sizes[i], options_.strides[i], pad_shape, num_base[i], device));
  return out;
}

}  // namespace cppdet::models
