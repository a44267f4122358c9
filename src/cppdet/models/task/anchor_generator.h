#pragma once
// mmdet 2.x AnchorGenerator: float anchors centred at (x * stride + offset * base, ...),
// ratio = h / w, no rounding, no "+1".
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/task/prior_generator.h"

namespace cppdet::models {

struct AnchorGeneratorOptions {
  std::vector<std::pair<double, double>> strides;  // (w, h) per level
  std::vector<double> ratios;
  std::vector<double> scales;               // explicit scales, or
  std::optional<double> octave_base_scale;  // octave_base_scale * 2^(i / scales_per_octave)
  std::optional<int64_t> scales_per_octave;
  std::vector<double> base_sizes;           // default: min(stride) per level
  bool scale_major = true;
  std::vector<std::pair<double, double>> centers;  // optional per-level (x, y) centres
  double center_offset = 0.0;

  static AnchorGeneratorOptions from_config(const config::Value& cfg, const std::string& path);
};

class AnchorGenerator : public PriorGenerator {
 public:
  explicit AnchorGenerator(AnchorGeneratorOptions options);

  int64_t num_levels() const override { return static_cast<int64_t>(options_.strides.size()); }
  std::vector<int64_t> num_base_priors() const override;
  std::vector<torch::Tensor> grid_priors(const std::vector<FeatSize>& featmap_sizes, torch::Dtype dtype,
                                         torch::Device device) const override;
  std::vector<torch::Tensor> valid_flags(const std::vector<FeatSize>& featmap_sizes, FeatSize pad_shape,
                                         torch::Device device) const override;

  // [A, 4] float32 anchors of one level centred at the level's centre (CPU).
  const torch::Tensor& base_anchors(int64_t level) const { return base_anchors_.at(level); }
  const AnchorGeneratorOptions& options() const { return options_; }

 private:
  AnchorGeneratorOptions options_;
  torch::Tensor scales_;  // [S] float32
  std::vector<torch::Tensor> base_anchors_;
};

}  // namespace cppdet::models
