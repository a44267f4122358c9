#pragma once
// Interface of box coders (mmdet's bbox_coder): regression targets <-> boxes.
#include <torch/types.h>

#include <optional>
#include <utility>

namespace cppdet::models {

using ImageSize = std::pair<int64_t, int64_t>;  // (h, w)

class BBoxCoder {
 public:
  virtual ~BBoxCoder() = default;
  // bboxes, gt_bboxes [N, 4] -> deltas [N, 4].
  virtual torch::Tensor encode(const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes) const = 0;
  // bboxes [N, 4], deltas [N, 4 * K] -> boxes [N, 4 * K], clipped to `max_shape` when given.
  virtual torch::Tensor decode(const torch::Tensor& bboxes, const torch::Tensor& deltas,
                               std::optional<ImageSize> max_shape = std::nullopt) const = 0;
};

}  // namespace cppdet::models
