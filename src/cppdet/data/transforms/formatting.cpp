#include "cppdet/data/transforms/formatting.h"

#include <algorithm>

#include "cppdet/core/error.h"
#include "cppdet/data/transforms/loading.h"

namespace cppdet::data {

torch::Tensor image_to_tensor(const cv::Mat& img) {
  torch::ScalarType dtype;
  switch (img.depth()) {
    case CV_8U: dtype = torch::kUInt8; break;
    case CV_32F: dtype = torch::kFloat32; break;
    default: throw UserError("ImageToTensor: expected a uint8 or float32 image");
  }
  cv::Mat contiguous = img.isContinuous() ? img : img.clone();
  torch::Tensor hwc = torch::from_blob(contiguous.data, {contiguous.rows, contiguous.cols, contiguous.channels()}, dtype);
  return hwc.permute({2, 0, 1}).contiguous();  // copies, so the cv::Mat may go away
}

void ImageToTensor::apply(Sample& sample) {
  if (sample.img.empty()) throw UserError("ImageToTensor: the sample has no image");
  sample.inputs = image_to_tensor(sample.img);
  sample.img.release();
}

void DefaultFormatBundle::apply(Sample& sample) {
  if (sample.img.empty()) throw UserError("DefaultFormatBundle: the sample has no image");
  if (sample.meta.pad_shape == std::array<int64_t, 3>{}) sample.meta.pad_shape = shape_of(sample.img);
  if (!sample.img_norm_cfg) sample.img_norm_cfg = ImageNormConfig{};
  sample.inputs = image_to_tensor(sample.img);
  if (img_to_float_ && sample.inputs.scalar_type() == torch::kUInt8) sample.inputs = sample.inputs.to(torch::kFloat32);
  sample.img.release();
}

Collect::Collect(std::vector<std::string> keys) : keys_(std::move(keys)) {
  static const std::vector<std::string> known = {"img", "gt_bboxes", "gt_bboxes_ignore", "gt_labels", "gt_masks"};
  for (const std::string& k : keys_)
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw ConfigError("Collect.keys: unknown key '" + k +
                        "'; known: img, gt_bboxes, gt_bboxes_ignore, gt_labels, gt_masks");
}

void Collect::apply(Sample& sample) {
  auto keep = [&](const char* key) { return std::find(keys_.begin(), keys_.end(), key) != keys_.end(); };
  if (keep("img") && !sample.inputs.defined())
    throw UserError("Collect: 'img' is not a tensor yet (add ImageToTensor or DefaultFormatBundle before Collect)");
  if (!keep("gt_bboxes")) sample.gt_bboxes = torch::Tensor();
  if (!keep("gt_bboxes_ignore")) sample.gt_bboxes_ignore = torch::Tensor();
  if (!keep("gt_labels")) sample.gt_labels = torch::Tensor();
  if (!keep("gt_masks")) sample.gt_masks = torch::Tensor();
}

}  // namespace cppdet::data
