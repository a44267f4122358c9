#pragma once
// mmdet's RandomFlip: flips image, boxes, masks (bitmaps and polygons) and the segmentation
// map horizontally, vertically or both ("diagonal"). In test pipelines MultiScaleFlipAug
// decides (flip_decided); otherwise each direction is drawn with its flip_ratio.
#include <string>
#include <vector>

#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// Boxes [n, 4] x1y1x2y2 flipped inside an image of width w and height h (no -1: x1' = w - x2).
torch::Tensor flip_boxes(const torch::Tensor& boxes, int64_t w, int64_t h, const std::string& direction);
// cv::flip with an mmdet direction name; returns a new image.
cv::Mat flip_image(const cv::Mat& img, const std::string& direction);
// Throws ConfigError naming `path` unless `direction` is horizontal, vertical or diagonal.
void check_flip_direction(const std::string& direction, const std::string& path);

class RandomFlip : public SampleTransform {
 public:
  struct Options {
    // One probability per direction, or one shared by all (split evenly); empty: no random
    // flips (the test-time form `RandomFlip()`).
    std::vector<double> flip_ratio;
    std::vector<std::string> direction{"horizontal"};
  };
  explicit RandomFlip(Options options);
  void apply(Sample& sample) override;

 private:
  Options options_;
};

}  // namespace cppdet::data
