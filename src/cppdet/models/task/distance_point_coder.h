#pragma once
// mmdet 2.x DistancePointBBoxCoder (distance2bbox / bbox2distance): a box as the distances
// (left, top, right, bottom) from a point to its sides. decode clips to [0, W] x [0, H] of the
// unpadded image when given a max_shape and clip_border (default True). Config key: clip_border.
#include <optional>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/task/bbox_coder.h"

namespace cppdet::models {

struct DistancePointCoderOptions {
  bool clip_border = true;

  static DistancePointCoderOptions from_config(const config::Value& cfg, const std::string& path);
};

class DistancePointBBoxCoder : public BBoxCoder {
 public:
  explicit DistancePointBBoxCoder(DistancePointCoderOptions options = {}) : options_(options) {}
  // points [N, 2] x y, gt_bboxes [N, 4] -> distances [N, 4] (unclamped).
  torch::Tensor encode(const torch::Tensor& points, const torch::Tensor& gt_bboxes) const override {
    return encode(points, gt_bboxes, std::nullopt);
  }
  // With max_dis every distance is clamped to [0, max_dis - eps] (GFL's DFL targets).
  torch::Tensor encode(const torch::Tensor& points, const torch::Tensor& gt_bboxes, std::optional<double> max_dis,
                       double eps = 0.1) const;
  // points [N, 2], distances [N, 4] -> boxes [N, 4] x1 y1 x2 y2.
  torch::Tensor decode(const torch::Tensor& points, const torch::Tensor& distances,
                       std::optional<ImageSize> max_shape = std::nullopt) const override;

 private:
  DistancePointCoderOptions options_;
};

}  // namespace cppdet::models
