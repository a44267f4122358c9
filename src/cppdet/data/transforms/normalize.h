#pragma once
// mmdet's Normalize (mmcv.imnormalize): optional BGR->RGB swap, then per channel
// float32(x - float32(mean)) * float32(1/std) in float32 arithmetic (OpenCV converts the
// scalars to the image depth; the oracle's input tensors match this bit for bit).
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
