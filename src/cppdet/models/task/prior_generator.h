#pragma once
// Interface of prior (anchor / point) generators: mmdet's prior_generator of dense heads.
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::models {

using FeatSize = std::pair<int64_t, int64_t>;  // (h, w) of one feature map

class PriorGenerator {
 public:
  virtual ~PriorGenerator() = default;
  virtual int64_t num_levels() const = 0;
  // Priors per location, per level (A).
  virtual std::vector<int64_t> num_base_priors() const = 0;
  // Per level [h * w * A, 4] x1 y1 x2 y2 (anchors) or [h * w, 2] x y (points), ordered
  // (y, x, prior).
  virtual std::vector<torch::Tensor> grid_priors(const std::vector<FeatSize>& featmap_sizes,
                                                 torch::Dtype dtype, torch::Device device) const = 0;
  // Per level [h * w * A] bool: the prior's cell lies inside the image's padded shape (h, w).
  virtual std::vector<torch::Tensor> valid_flags(const std::vector<FeatSize>& featmap_sizes,
                                                 FeatSize pad_shape, torch::Device device) const = 0;
};

// mmcv's _pair over a list: each entry a number n -> (n, n) or an (a, b) pair; ConfigError
// naming `path` otherwise.
std::vector<std::pair<double, double>> read_number_pairs(const config::Value& v, const std::string& path);

// The (x, y) meshgrid of mmdet's prior generators: [len(y) * len(x)] each, x varying fastest.
std::pair<torch::Tensor, torch::Tensor> prior_meshgrid(const torch::Tensor& x, const torch::Tensor& y);

// Per-level validity flags [h * w * A] of a regular grid: cells whose index is below
// ceil(pad / stride) in both directions (the prior's cell lies inside the padded image).
torch::Tensor grid_valid_flags(FeatSize featmap_size, std::pair<double, double> stride_wh, FeatSize pad_shape,
                               int64_t num_base_priors, torch::Device device);

}  // namespace cppdet::models
