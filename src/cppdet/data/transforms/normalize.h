#pragma once
// mmdet's Normalize (mmcv.imnormalize): optional BGR->RGB swap, then per channel
// (x - mean) / std evaluated in float32 with float32 mean and std: the form that reproduces
// MMDetection's (OpenCV's) normalised values bit for bit on the oracle images.
#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// A new HWC float32 image; `img` is 3-channel uint8 or float32 and is not modified.
cv::Mat normalize_image(const cv::Mat& img, const ImageNormConfig& cfg);

class Normalize : public SampleTransform {
 public:
  explicit Normalize(ImageNormConfig cfg) : cfg_(cfg) {}
  void apply(Sample& sample) override;

 private:
  ImageNormConfig cfg_;
};

}  // namespace cppdet::data
