#pragma once
// mmdet 2.x DeltaXYWHBBoxCoder (bbox2delta / delta2bbox): centre/size deltas with no "+1",
// normalised by means/stds; decode clamps dw, dh to |log(wh_ratio_clip)| and clips boxes to
// [0, W] x [0, H] of the unpadded image when clip_border.
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/task/bbox_coder.h"

namespace cppdet::models {

struct DeltaXYWHCoderOptions {
  std::vector<double> target_means{0, 0, 0, 0};
  std::vector<double> target_stds{1, 1, 1, 1};
  bool clip_border = true;
  bool add_ctr_clamp = false;  // YOLOF: clamp centre shifts to +-ctr_clamp px, dw/dh only above
  double ctr_clamp = 32;
  double wh_ratio_clip = 16.0 / 1000.0;  // a decode() argument in mmdet, not a config key

  static DeltaXYWHCoderOptions from_config(const config::Value& cfg, const std::string& path);
};

class DeltaXYWHBBoxCoder : public BBoxCoder {
 public:
  explicit DeltaXYWHBBoxCoder(DeltaXYWHCoderOptions options = {});
  torch::Tensor encode(const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes) const override;
  torch::Tensor decode(const torch::Tensor& bboxes, const torch::Tensor& deltas,
                       std::optional<ImageSize> max_shape = std::nullopt) const override;
  const DeltaXYWHCoderOptions& options() const { return options_; }

 private:
  DeltaXYWHCoderOptions options_;
};

}  // namespace cppdet::models
