#pragma once
// The geometric AutoAugment steps of mmdet 2.25 (datasets/pipelines/auto_augment.py): Shear,
// Rotate and Translate. Each moves the image, the boxes (gt_bboxes and gt_bboxes_ignore), the
// instance masks (bitmaps and polygons) and the segmentation map by one affine map of the same
// output size, clips the boxes to the image, and drops the objects (box, label, masks) whose
// box is no longer wider and taller than min_size.
//
// Randomness, as mmdet: one uniform draw u skips the step when u > prob; when applied, a
// second draw negates the magnitude when it is < random_negative_prob.
#include <array>
#include <optional>
#include <string>

#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// mmdet's level_to_value: level / 10 * max_value.
double level_to_value(double level, double max_value);

// Options every geometric step shares (mmdet's constructor arguments of the same names).
struct GeometricAugmentOptions {
  double level = 0;  // in [0, 10]
  double prob = 0.5;
  std::array<double, 3> img_fill_val{128, 128, 128};  // border of the image, in its channel order (BGR)
  int64_t seg_ignore_label = 255;                       // border of the segmentation map
  double random_negative_prob = 0.5;
};

// Shears along x (`horizontal`: x' = x + m*y) or y (`vertical`: y' = y + m*x) with
// m = level_to_value(level, max_shear_magnitude), rounded to float32 as mmcv.imshear does.
class Shear : public SampleTransform {
 public:
  struct Options {
    GeometricAugmentOptions common;
    bool horizontal = true;            // direction: 'horizontal' or 'vertical'
    double max_shear_magnitude = 0.3;  // in [0, 1]
    int interpolation = 1;             // cv::INTER_* of image, bitmaps and seg (mmcv name 'bilinear')
  };
  // Invalid options are ConfigErrors naming `where` (the config path) and the key.
  explicit Shear(Options options, const std::string& where = "Shear");
  void apply(Sample& sample) override;

 private:
  Options options_;
};

// Rotates by angle = level_to_value(level, max_rotate_angle) degrees, clockwise for a positive
// angle, about `center` (default: the image centre ((w-1)/2, (h-1)/2)) with isotropic `scale`
// (cv::getRotationMatrix2D(center, -angle, scale), as mmcv.imrotate).
class Rotate : public SampleTransform {
 public:
  struct Options {
    GeometricAugmentOptions common;
    double scale = 1;
    std::optional<std::array<double, 2>> center;  // (x, y)
    double max_rotate_angle = 30;
  };
  // Invalid options are ConfigErrors naming `where` (the config path) and the key.
  explicit Rotate(Options options, const std::string& where = "Rotate");
  void apply(Sample& sample) override;

 private:
  Options options_;
};

// Shifts by offset = int(level_to_value(level, max_translate_offset)) pixels (truncated) along
// x or y. Boxes are clipped on the moved axis only; objects whose box is not wider and taller
// than min_size afterwards are dropped.
class Translate : public SampleTransform {
 public:
  struct Options {
    GeometricAugmentOptions common;
    bool horizontal = true;  // direction: 'horizontal' or 'vertical'
    double max_translate_offset = 250;
    double min_size = 0;
  };
  // Invalid options are ConfigErrors naming `where` (the config path) and the key.
  explicit Translate(Options options, const std::string& where = "Translate");
  void apply(Sample& sample) override;

 private:
  Options options_;
  int64_t offset_;
};

}  // namespace cppdet::data
