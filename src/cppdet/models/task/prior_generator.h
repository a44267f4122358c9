#pragma once
// Interface of prior (anchor / point) generators: mmdet's prior_generator of dense heads.
#include <torch/types.h>

#include <utility>
#include <vector>

namespace cppdet::models {

using FeatSize = std::pair<int64_t, int64_t>;  // (h, w) of one feature map

class PriorGenerator {
 public:
  virtual ~PriorGenerator() = default;
  virtual int64_t num_levels() const = 0;
  // Priors per location, per level (A).
  virtual std::vector<int64_t> num_base_priors() const = 0;
  // Per level [h * w * A, 4] x1 y1 x2 y2, ordered (y, x, prior).
  virtual std::vector<torch::Tensor> grid_priors(const std::vector<FeatSize>& featmap_sizes,
                                                 torch::Dtype dtype, torch::Device device) const = 0;
  // Per level [h * w * A] bool: the prior's cell lies inside the image's padded shape (h, w).
  virtual std::vector<torch::Tensor> valid_flags(const std::vector<FeatSize>& featmap_sizes,
                                                 FeatSize pad_shape, torch::Device device) const = 0;
};

}  // namespace cppdet::models
