#pragma once
// The photometric AutoAugment steps of mmdet 2.25 (datasets/pipelines/auto_augment.py):
// ColorTransform, BrightnessTransform, ContrastTransform and EqualizeTransform change the
// pixels of a BGR uint8 image and nothing else. Each runs when one uniform draw u is <= prob.
// The enhancement factor of a level is level / 10 * 1.8 + 0.1 (level 5: 1.0, the identity).
//
// The image functions are mmcv 1.6's, to the bit:
//   adjust_color(img, f)      = cv2.addWeighted(img, f, gray, 1 - f, 0) on uint8, as OpenCV's
//                               AVX2 kernels compute it (fused multiply-adds in float32)
//   adjust_brightness(img, f) = float64 img*f rounded to float32, clipped to [0, 255], truncated
//   adjust_contrast(img, f)   = the same towards the rounded mean of the grey image
//   imequalize(img)           = PIL's histogram equalisation, per channel
#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// mmdet's enhance_level_to_value: level / 10 * 1.8 + 0.1.
double enhance_level_to_value(double level);

// The image functions, on HxWx3 BGR uint8 images; each returns a new image.
cv::Mat adjust_color(const cv::Mat& img, double factor);
cv::Mat adjust_brightness(const cv::Mat& img, double factor);
cv::Mat adjust_contrast(const cv::Mat& img, double factor);
cv::Mat equalize_image(const cv::Mat& img);

// One of the four steps: `kind` picks the image function.
class PhotometricAugment : public SampleTransform {
 public:
  enum class Kind { kColor, kBrightness, kContrast, kEqualize };
  struct Options {
    Kind kind = Kind::kColor;
    double level = 0;  // in [0, 10]; unused by kEqualize
    double prob = 0.5;
  };
  // Invalid options are ConfigErrors naming `where` (the config path) and the key.
  PhotometricAugment(Options options, const std::string& where);
  void apply(Sample& sample) override;

 private:
  Options options_;
  std::string name_;  // mmdet's class name, for messages
};

}  // namespace cppdet::data
