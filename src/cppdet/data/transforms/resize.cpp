#include "cppdet/data/transforms/resize.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "cppdet/core/error.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/data/transforms/random.h"

namespace cppdet::data {

double rescale_factor(int64_t w, int64_t h, const std::array<int64_t, 2>& scale) {
  const double long_edge = static_cast<double>(std::max(scale[0], scale[1]));
  const double short_edge = static_cast<double>(std::min(scale[0], scale[1]));
  return std::min(long_edge / static_cast<double>(std::max(h, w)),
                  short_edge / static_cast<double>(std::min(h, w)));
}

std::array<int64_t, 2> scaled_size(int64_t w, int64_t h, double factor) {
  return {static_cast<int64_t>(static_cast<double>(w) * factor + 0.5),
          static_cast<int64_t>(static_cast<double>(h) * factor + 0.5)};
}

cv::Mat resize_image(const cv::Mat& img, int64_t w, int64_t h, int interpolation) {
  if (w <= 0 || h <= 0)
    throw UserError("Resize: target size " + std::to_string(w) + "x" + std::to_string(h) + " is empty");
  cv::Mat out;
  cv::resize(img, out, cv::Size(static_cast<int>(w), static_cast<int>(h)), 0, 0, interpolation);
  return out;
}

int interpolation_code(const std::string& name, const std::string& path) {
  if (name == "nearest") return cv::INTER_NEAREST;
  if (name == "bilinear") return cv::INTER_LINEAR;
  if (name == "bicubic") return cv::INTER_CUBIC;
  if (name == "area") return cv::INTER_AREA;
  if (name == "lanczos") return cv::INTER_LANCZOS4;
  throw ConfigError(path + ": unknown interpolation '" + name + "'; known: nearest, bilinear, bicubic, area, lanczos");
}

Resize::Resize(Options options) : options_(std::move(options)) {
  if (options_.ratio_range && options_.img_scale.size() != 1)
    throw ConfigError("Resize: ratio_range needs exactly one img_scale");
}

std::array<int64_t, 2> Resize::choose_scale() const {
  const auto& scales = options_.img_scale;
  if (scales.empty())
    throw UserError("Resize: no img_scale configured and no scale set by MultiScaleFlipAug");
  if (options_.ratio_range) {
    const auto [lo, hi] = *options_.ratio_range;
    const double ratio = random_unit() * (hi - lo) + lo;
    return {static_cast<int64_t>(static_cast<double>(scales[0][0]) * ratio),
            static_cast<int64_t>(static_cast<double>(scales[0][1]) * ratio)};
  }
  if (scales.size() == 1) return scales[0];
  if (options_.multiscale_mode == MultiscaleMode::Value)
    return scales[static_cast<size_t>(random_int(0, static_cast<int64_t>(scales.size()) - 1))];
  // Range: long and short edges drawn independently between the extremes.
  int64_t long_min = INT64_MAX, long_max = 0, short_min = INT64_MAX, short_max = 0;
  for (const auto& s : scales) {
    long_min = std::min(long_min, std::max(s[0], s[1]));
    long_max = std::max(long_max, std::max(s[0], s[1]));
    short_min = std::min(short_min, std::min(s[0], s[1]));
    short_max = std::max(short_max, std::min(s[0], s[1]));
  }
  return {random_int(long_min, long_max), random_int(short_min, short_max)};
}

namespace {

// Boxes times (w_scale, h_scale), optionally clipped to the new image ([0, w] x [0, h]).
torch::Tensor resize_boxes(const torch::Tensor& boxes, float w_scale, float h_scale, int64_t w, int64_t h, bool clip) {
  if (!boxes.defined() || boxes.numel() == 0) return boxes;
  torch::Tensor out = boxes * torch::tensor({w_scale, h_scale, w_scale, h_scale}, boxes.options());
  if (clip) {
    using torch::indexing::Slice;
    out.index_put_({Slice(), Slice(0, 4, 2)}, out.index({Slice(), Slice(0, 4, 2)}).clamp(0, static_cast<double>(w)));
    out.index_put_({Slice(), Slice(1, 4, 2)}, out.index({Slice(), Slice(1, 4, 2)}).clamp(0, static_cast<double>(h)));
  }
  return out;
}

// [n, H, W] uint8 masks resized with nearest neighbour to (w, h).
torch::Tensor resize_masks(const torch::Tensor& masks, int64_t w, int64_t h) {
  if (!masks.defined()) return masks;
  torch::Tensor src = masks.to(torch::kUInt8).contiguous();
  torch::Tensor out = torch::empty({src.size(0), h, w}, src.options());
  for (int64_t i = 0; i < src.size(0); ++i) {
    cv::Mat m(static_cast<int>(src.size(1)), static_cast<int>(src.size(2)), CV_8UC1, src[i].data_ptr());
    cv::Mat dst(static_cast<int>(h), static_cast<int>(w), CV_8UC1, out[i].data_ptr());
    cv::resize(m, dst, dst.size(), 0, 0, cv::INTER_NEAREST);
  }
  return out;
}

}  // namespace

void Resize::apply(Sample& sample) {
  if (sample.img.empty()) throw UserError("Resize: the sample has no image (is LoadImageFromFile first?)");
  if (!sample.scale) {
    if (sample.scale_factor_request) {
      const double f = *sample.scale_factor_request;
      sample.scale = std::array<int64_t, 2>{static_cast<int64_t>(sample.img.cols * f),
                                            static_cast<int64_t>(sample.img.rows * f)};
    } else {
      sample.scale = choose_scale();
    }
  } else if (options_.override_scale) {
    sample.scale_factor_request.reset();
    sample.scale = choose_scale();
  } else if (sample.scale_factor_request) {
    throw UserError("Resize: scale and scale_factor cannot be both set");
  }

  const int64_t w = sample.img.cols, h = sample.img.rows;
  int64_t new_w, new_h;
  if (options_.keep_ratio) {
    const auto size = scaled_size(w, h, rescale_factor(w, h, *sample.scale));
    new_w = size[0];
    new_h = size[1];
  } else {
    new_w = (*sample.scale)[0];
    new_h = (*sample.scale)[1];
  }
  sample.img = resize_image(sample.img, new_w, new_h, options_.interpolation);
  const float w_scale = static_cast<float>(static_cast<double>(new_w) / static_cast<double>(w));
  const float h_scale = static_cast<float>(static_cast<double>(new_h) / static_cast<double>(h));
  sample.meta.scale_factor = {w_scale, h_scale, w_scale, h_scale};
  sample.meta.img_shape = shape_of(sample.img);
  sample.meta.pad_shape = sample.meta.img_shape;
  sample.keep_ratio = options_.keep_ratio;

  sample.gt_bboxes = resize_boxes(sample.gt_bboxes, w_scale, h_scale, new_w, new_h, options_.bbox_clip_border);
  sample.gt_bboxes_ignore =
      resize_boxes(sample.gt_bboxes_ignore, w_scale, h_scale, new_w, new_h, options_.bbox_clip_border);
  sample.gt_masks = resize_masks(sample.gt_masks, new_w, new_h);
  // Polygons scale by the exact size ratios (mmdet's PolygonMasks.resize); the label map is
  // resized with nearest neighbour.
  const double poly_w_scale = static_cast<double>(new_w) / static_cast<double>(w);
  const double poly_h_scale = static_cast<double>(new_h) / static_cast<double>(h);
  for (auto& instance : sample.gt_polygons)
    for (std::vector<double>& ring : instance)
      for (size_t k = 0; k < ring.size(); ++k) ring[k] *= k % 2 == 0 ? poly_w_scale : poly_h_scale;
  if (!sample.gt_semantic_seg.empty())
    sample.gt_semantic_seg = resize_image(sample.gt_semantic_seg, new_w, new_h, cv::INTER_NEAREST);
}

}  // namespace cppdet::data
