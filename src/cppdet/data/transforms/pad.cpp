#include "cppdet/data/transforms/pad.h"

#include <opencv2/core.hpp>

#include "cppdet/core/error.h"

namespace cppdet::data {

cv::Mat pad_image(const cv::Mat& img, int64_t h, int64_t w, double value) {
  if (h < img.rows || w < img.cols)
    throw UserError("Pad: image " + std::to_string(img.cols) + "x" + std::to_string(img.rows) +
                    " is larger than the pad size " + std::to_string(w) + "x" + std::to_string(h));
  cv::Mat out;
  cv::copyMakeBorder(img, out, 0, static_cast<int>(h - img.rows), 0, static_cast<int>(w - img.cols),
                     cv::BORDER_CONSTANT, cv::Scalar::all(value));
  return out;
}

Pad::Pad(Options options) : options_(options) {
  if (options_.pad_to_square) {
    if (options_.size || options_.size_divisor)
      throw ConfigError("Pad: pad_to_square cannot be combined with size or size_divisor");
  } else if (options_.size.has_value() == options_.size_divisor.has_value()) {
    throw ConfigError("Pad: set exactly one of size and size_divisor");
  }
  if (options_.size_divisor && *options_.size_divisor <= 0) throw ConfigError("Pad.size_divisor: must be positive");
}

void Pad::apply(Sample& sample) {
  const int64_t h = sample.img.rows, w = sample.img.cols;
  int64_t out_h, out_w;
  if (options_.pad_to_square) {
    out_h = out_w = std::max(h, w);
  } else if (options_.size) {
    out_h = (*options_.size)[0];
    out_w = (*options_.size)[1];
  } else {
    const int64_t d = *options_.size_divisor;
    out_h = (h + d - 1) / d * d;
    out_w = (w + d - 1) / d * d;
  }
  sample.img = pad_image(sample.img, out_h, out_w, options_.pad_val_img);
  sample.meta.pad_shape = {out_h, out_w, static_cast<int64_t>(sample.img.channels())};
  if (sample.gt_masks.defined() && sample.gt_masks.dim() == 3) {
    const int64_t mh = sample.gt_masks.size(1), mw = sample.gt_masks.size(2);
    sample.gt_masks = torch::constant_pad_nd(sample.gt_masks, {0, out_w - mw, 0, out_h - mh}, options_.pad_val_masks);
  }
  if (!sample.gt_semantic_seg.empty())
    sample.gt_semantic_seg = pad_image(sample.gt_semantic_seg, out_h, out_w, options_.pad_val_seg);
}

}  // namespace cppdet::data
