#pragma once
// mmdet 2.x MlvlPointGenerator: one point per feature-map cell at
// ((x + offset) * stride_w, (y + offset) * stride_h), offset 0.5 by default, so level 0 of a
// stride-8 map starts at (4, 4). Anchor-free heads (FCOS) use it. Config keys: strides (numbers
// or (w, h) pairs), offset (0.5).
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/task/prior_generator.h"

namespace cppdet::models {

struct PointGeneratorOptions {
  std::vector<std::pair<double, double>> strides;  // (w, h) per level
  double offset = 0.5;

  static PointGeneratorOptions from_config(const config::Value& cfg, const std::string& path);
};

class MlvlPointGenerator : public PriorGenerator {
 public:
  explicit MlvlPointGenerator(PointGeneratorOptions options) : options_(std::move(options)) {}

  int64_t num_levels() const override { return static_cast<int64_t>(options_.strides.size()); }
  std::vector<int64_t> num_base_priors() const override { return std::vector<int64_t>(options_.strides.size(), 1); }
  // Per level [h * w, 2] x y.
  std::vector<torch::Tensor> grid_priors(const std::vector<FeatSize>& featmap_sizes, torch::Dtype dtype,
                                         torch::Device device) const override;
  std::vector<torch::Tensor> valid_flags(const std::vector<FeatSize>& featmap_sizes, FeatSize pad_shape,
                                         torch::Device device) const override;
  const PointGeneratorOptions& options() const { return options_; }

 private:
  PointGeneratorOptions options_;
};

}  // namespace cppdet::models
