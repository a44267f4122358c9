#pragma once
// mmdet's Pad: pads the bottom and right of the image (and masks and segmentation map) to a
// fixed size, to a multiple of size_divisor, or to a square; sets meta.pad_shape.
#include <array>
#include <optional>

#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// Bottom/right padding of `img` to h x w with a constant; throws when the image is larger.
cv::Mat pad_image(const cv::Mat& img, int64_t h, int64_t w, double value);

class Pad : public SampleTransform {
 public:
  struct Options {
    std::optional<std::array<int64_t, 2>> size;  // (h, w)
    std::optional<int64_t> size_divisor;
    bool pad_to_square = false;
    double pad_val_img = 0.0;
    double pad_val_masks = 0.0;
    double pad_val_seg = 255.0;  // the segmentation map's border
  };
  explicit Pad(Options options);
  void apply(Sample& sample) override;

 private:
  Options options_;
};

}  // namespace cppdet::data
