#pragma once
// mmdet's Resize: picks a target scale, resizes the image on its own dtype (uint8 stays
// uint8, as cv2.resize does), and scales boxes, masks (bitmaps: nearest neighbour; polygons:
// by the size ratios) and the segmentation map (nearest neighbour) along.
#include <optional>
#include <string>
#include <vector>

#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// mmcv.rescale_size: the factor that fits (w, h) into `scale` = (long edge, short edge) in
// either order, and the resulting size (int(w*f + 0.5), int(h*f + 0.5)).
double rescale_factor(int64_t w, int64_t h, const std::array<int64_t, 2>& scale);
std::array<int64_t, 2> scaled_size(int64_t w, int64_t h, double factor);  // (w, h)

// cv::resize to (w, h) with an mmcv interpolation name ("bilinear", "nearest", ...).
cv::Mat resize_image(const cv::Mat& img, int64_t w, int64_t h, int interpolation);
// mmcv interpolation name -> cv::INTER_*; throws ConfigError naming `path` when unknown.
int interpolation_code(const std::string& name, const std::string& path);

class Resize : public SampleTransform {
 public:
  enum class MultiscaleMode { Range, Value };
  struct Options {
    // Candidate scales as (w, h) tuples; with keep_ratio each is (long, short) in any order.
    // Empty: the scale must come from the sample (MultiScaleFlipAug).
    std::vector<std::array<int64_t, 2>> img_scale;
    MultiscaleMode multiscale_mode = MultiscaleMode::Range;
    std::optional<std::array<double, 2>> ratio_range;
    bool keep_ratio = true;
    bool bbox_clip_border = true;
    int interpolation = 1;  // cv::INTER_LINEAR
    bool override_scale = false;  // mmdet's `override`
  };
  explicit Resize(Options options);
  void apply(Sample& sample) override;

 private:
  std::array<int64_t, 2> choose_scale() const;
  Options options_;
};

}  // namespace cppdet::data
