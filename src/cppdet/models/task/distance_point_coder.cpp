#include "cppdet/models/task/distance_point_coder.h"

#include "cppdet/config/reader.h"

namespace cppdet::models {

using torch::indexing::None;
using torch::indexing::Slice;

DistancePointCoderOptions DistancePointCoderOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  DistancePointCoderOptions o;
  o.clip_border = r.get_bool("clip_border", true);
  r.finish();
  return o;
}

torch::Tensor DistancePointBBoxCoder::encode(const torch::Tensor& points, const torch::Tensor& gt_bboxes,
                                             std::optional<double> max_dis, double eps) const {
  TORCH_CHECK(points.size(0) == gt_bboxes.size(0), "DistancePointBBoxCoder.encode: ", points.size(0),
              " points but ", gt_bboxes.size(0), " boxes");
  torch::Tensor left = points.select(1, 0) - gt_bboxes.select(1, 0);
  torch::Tensor top = points.select(1, 1) - gt_bboxes.select(1, 1);
  torch::Tensor right = gt_bboxes.select(1, 2) - points.select(1, 0);
  torch::Tensor bottom = gt_bboxes.select(1, 3) - points.select(1, 1);
  if (max_dis) {
    left = left.clamp(0, *max_dis - eps);
    top = top.clamp(0, *max_dis - eps);
    right = right.clamp(0, *max_dis - eps);
    bottom = bottom.clamp(0, *max_dis - eps);
  }
  return torch::stack({left, top, right, bottom}, -1);
}

torch::Tensor DistancePointBBoxCoder::decode(const torch::Tensor& points, const torch::Tensor& distances,
                                             std::optional<ImageSize> max_shape) const {
  TORCH_CHECK(points.size(0) == distances.size(0), "DistancePointBBoxCoder.decode: ", points.size(0),
              " points but ", distances.size(0), " distances");
  const torch::Tensor x1 = points.select(1, 0) - distances.select(1, 0);
  const torch::Tensor y1 = points.select(1, 1) - distances.select(1, 1);
  const torch::Tensor x2 = points.select(1, 0) + distances.select(1, 2);
  const torch::Tensor y2 = points.select(1, 1) + distances.select(1, 3);
  torch::Tensor bboxes = torch::stack({x1, y1, x2, y2}, -1);
  if (options_.clip_border && max_shape) {
    bboxes.index({Slice(), Slice(0, None, 2)}).clamp_(0, static_cast<double>(max_shape->second));
    bboxes.index({Slice(), Slice(1, None, 2)}).clamp_(0, static_cast<double>(max_shape->first));
  }
  return bboxes;
}

}  // namespace cppdet::models
