#pragma once
// The last pipeline steps: image to a CHW tensor (ImageToTensor, DefaultFormatBundle) and
// selection of what the model receives (Collect).
#include <string>
#include <vector>

#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// HWC cv::Mat (uint8 or float32, 1 or 3 channels) -> [C, H, W] tensor of the same dtype.
torch::Tensor image_to_tensor(const cv::Mat& img);

// ImageToTensor(keys=['img']): img -> inputs, dtype unchanged.
class ImageToTensor : public SampleTransform {
 public:
  void apply(Sample& sample) override;
};

// DefaultFormatBundle: img -> float32 inputs; fills pad_shape and img_norm_cfg defaults.
class DefaultFormatBundle : public SampleTransform {
 public:
  explicit DefaultFormatBundle(bool img_to_float = true) : img_to_float_(img_to_float) {}
  void apply(Sample& sample) override;

 private:
  bool img_to_float_;
};

// Collect(keys): keeps the listed data keys ('img', 'gt_bboxes', 'gt_bboxes_ignore',
// 'gt_labels', 'gt_masks'), clears the other annotations; the metadata always travels.
class Collect : public SampleTransform {
 public:
  explicit Collect(std::vector<std::string> keys);
  void apply(Sample& sample) override;

 private:
  std::vector<std::string> keys_;
};

}  // namespace cppdet::data
