#include "cppdet/data/transforms/geometric_augment.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "cppdet/config/python_repr.h"
#include "cppdet/core/error.h"
#include "cppdet/data/transforms/random.h"

namespace cppdet::data {
namespace {

constexpr double kMaxLevel = 10;

void check_common(const GeometricAugmentOptions& o, const std::string& name) {
  if (!(o.level >= 0 && o.level <= kMaxLevel))
    throw ConfigError(name + ".level: must be in [0, 10], got " + config::python_float_repr(o.level));
  if (!(o.prob >= 0 && o.prob <= 1)) throw ConfigError(name + ".prob: must be in [0, 1], got " + config::python_float_repr(o.prob));
  for (double v : o.img_fill_val)
    if (!(v >= 0 && v <= 255))
      throw ConfigError(name + ".img_fill_val: each value must be in [0, 255], got " + config::python_float_repr(v));
}

// The signed magnitude of one application (mmdet's random_negative), or nullopt when the step
// is skipped.
std::optional<double> draw_value(const GeometricAugmentOptions& o, double value) {
  if (!random_apply(o.prob)) return std::nullopt;
  return random_unit() < o.random_negative_prob ? -value : value;
}

// cv::warpAffine to the same size, constant border (mmcv's imshear / imrotate / imtranslate).
cv::Mat warp(const cv::Mat& src, const cv::Matx23d& m, int interpolation, const cv::Scalar& border) {
  cv::Mat out;
  cv::warpAffine(src, out, cv::Mat(m), src.size(), interpolation, cv::BORDER_CONSTANT, border);
  return out;
}

// Every bitmap of [n, H, W] uint8 masks warped alone, border 0 (mmdet's BitmapMasks warps the
// H x W x n stack; each channel comes out the same).
torch::Tensor warp_masks(const torch::Tensor& masks, const cv::Matx23d& m, int interpolation) {
  const torch::Tensor src = masks.contiguous();
  torch::Tensor out = torch::empty_like(src);
  const int h = static_cast<int>(src.size(1)), w = static_cast<int>(src.size(2));
  for (int64_t i = 0; i < src.size(0); ++i) {
    const cv::Mat in(h, w, CV_8UC1, src[i].data_ptr<uint8_t>());
    cv::Mat dst(h, w, CV_8UC1, out[i].data_ptr<uint8_t>());
    cv::warpAffine(in, dst, cv::Mat(m), in.size(), interpolation, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  }
  return out;
}

// Image, bitmap masks and segmentation map through the same warp.
void warp_rasters(Sample& s, const cv::Matx23d& m, int interpolation, const GeometricAugmentOptions& o) {
  const std::array<double, 3>& f = o.img_fill_val;
  s.img = warp(s.img, m, interpolation, cv::Scalar(f[0], f[1], f[2]));
  if (s.gt_masks.defined() && s.gt_masks.dim() == 3 && s.gt_masks.size(0) > 0)
    s.gt_masks = warp_masks(s.gt_masks, m, interpolation);
  if (!s.gt_semantic_seg.empty())
    s.gt_semantic_seg = warp(s.gt_semantic_seg, m, interpolation, cv::Scalar::all(static_cast<double>(o.seg_ignore_label)));
}

// Boxes [n, 4] float32 mapped corner by corner with `map` (x, y) -> (x', y') in double, then
// mmdet's clipping: x1 to [0, w], x2 to [x1, w] (same for y); rounded to float32 once.
torch::Tensor map_box_corners(const torch::Tensor& boxes, double w, double h,
                              const std::function<std::array<double, 2>(double, double)>& map) {
  if (!boxes.defined() || boxes.numel() == 0) return boxes;
  torch::Tensor out = boxes.to(torch::kFloat32).contiguous().clone();
  float* b = out.data_ptr<float>();
  for (int64_t i = 0; i < out.size(0); ++i, b += 4) {
    double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
    const std::array<std::array<double, 2>, 4> corners{{{b[0], b[1]}, {b[2], b[1]}, {b[0], b[3]}, {b[2], b[3]}}};
    for (const auto& [x, y] : corners) {
      const auto [nx, ny] = map(x, y);
      min_x = std::min(min_x, nx), max_x = std::max(max_x, nx);
      min_y = std::min(min_y, ny), max_y = std::max(max_y, ny);
    }
    min_x = std::clamp(min_x, 0.0, w);
    min_y = std::clamp(min_y, 0.0, h);
    b[0] = static_cast<float>(min_x);
    b[1] = static_cast<float>(min_y);
    b[2] = static_cast<float>(std::min(std::max(max_x, min_x), w));
    b[3] = static_cast<float>(std::min(std::max(max_y, min_y), h));
  }
  return out;
}

// Every polygon vertex mapped with `map`, then each coordinate clamped to the image (mmdet's
// PolygonMasks: no polygon clipping, vertices outside collapse onto the border).
void map_polygons(std::vector<std::vector<std::vector<double>>>& polygons, double w, double h,
                  const std::function<std::array<double, 2>(double, double)>& map) {
  for (auto& instance : polygons)
    for (std::vector<double>& ring : instance)
      for (size_t k = 0; k + 1 < ring.size(); k += 2) {
        const auto [x, y] = map(ring[k], ring[k + 1]);
        ring[k] = std::clamp(x, 0.0, w);
        ring[k + 1] = std::clamp(y, 0.0, h);
      }
}

// The objects whose box is wider and taller than min_size (strictly), as indices.
torch::Tensor valid_indices(const torch::Tensor& boxes, double min_size) {
  const torch::Tensor w = boxes.select(1, 2) - boxes.select(1, 0);
  const torch::Tensor h = boxes.select(1, 3) - boxes.select(1, 1);
  return torch::nonzero(w.gt(min_size).logical_and(h.gt(min_size))).view(-1);
}

// mmdet's _filter_invalid: drops the objects whose box collapsed, with their labels and masks
// (bitmaps and polygons); ignore boxes are filtered on their own.
void filter_invalid(Sample& s, double min_size, const std::string& name) {
  if (s.gt_bboxes.defined() && s.gt_bboxes.dim() == 2) {
    const int64_t n = s.gt_bboxes.size(0);
    const auto check = [&](int64_t count, const char* what) {
      if (count != n)
        throw UserError(name + ": image '" + s.img_file + "' has " + std::to_string(n) + " boxes but " +
                        std::to_string(count) + " " + what);
    };
    const torch::Tensor keep = valid_indices(s.gt_bboxes, min_size);
    if (keep.size(0) != n) {
      s.gt_bboxes = s.gt_bboxes.index_select(0, keep);
      if (s.gt_labels.defined()) {
        check(s.gt_labels.size(0), "labels");
        s.gt_labels = s.gt_labels.index_select(0, keep);
      }
      if (s.gt_masks.defined() && s.gt_masks.dim() == 3) {
        check(s.gt_masks.size(0), "masks");
        s.gt_masks = s.gt_masks.index_select(0, keep);
      }
      if (!s.gt_polygons.empty()) {
        check(static_cast<int64_t>(s.gt_polygons.size()), "polygon masks");
        std::vector<std::vector<std::vector<double>>> kept;
        for (int64_t i : std::vector<int64_t>(keep.data_ptr<int64_t>(), keep.data_ptr<int64_t>() + keep.size(0)))
          kept.push_back(std::move(s.gt_polygons[static_cast<size_t>(i)]));
        s.gt_polygons = std::move(kept);
      }
    }
  }
  if (s.gt_bboxes_ignore.defined() && s.gt_bboxes_ignore.dim() == 2)
    s.gt_bboxes_ignore = s.gt_bboxes_ignore.index_select(0, valid_indices(s.gt_bboxes_ignore, min_size));
}

}  // namespace

double level_to_value(double level, double max_value) { return level / kMaxLevel * max_value; }

Shear::Shear(Options options, const std::string& where) : options_(std::move(options)) {
  check_common(options_.common, where);
  if (!(options_.max_shear_magnitude >= 0 && options_.max_shear_magnitude <= 1))
    throw ConfigError(where + ".max_shear_magnitude: must be in [0, 1], got " + config::python_float_repr(options_.max_shear_magnitude));
}

void Shear::apply(Sample& sample) {
  const std::optional<double> value =
      draw_value(options_.common, level_to_value(options_.common.level, options_.max_shear_magnitude));
  if (!value) return;
  // mmcv builds the matrix in float32: the magnitude OpenCV and the boxes see is rounded.
  const double m = static_cast<double>(static_cast<float>(*value));
  const bool horizontal = options_.horizontal;
  const cv::Matx23d matrix = horizontal ? cv::Matx23d(1, m, 0, 0, 1, 0) : cv::Matx23d(1, 0, 0, m, 1, 0);
  const double w = sample.img.cols, h = sample.img.rows;
  warp_rasters(sample, matrix, options_.interpolation, options_.common);
  const auto map = [&](double x, double y) {
    return horizontal ? std::array<double, 2>{x + m * y, y} : std::array<double, 2>{x, m * x + y};
  };
  sample.gt_bboxes = map_box_corners(sample.gt_bboxes, w, h, map);
  sample.gt_bboxes_ignore = map_box_corners(sample.gt_bboxes_ignore, w, h, map);
  map_polygons(sample.gt_polygons, w, h, map);
  filter_invalid(sample, 0, "Shear");
}

Rotate::Rotate(Options options, const std::string& where) : options_(std::move(options)) {
  check_common(options_.common, where);
}

void Rotate::apply(Sample& sample) {
  const std::optional<double> angle =
      draw_value(options_.common, level_to_value(options_.common.level, options_.max_rotate_angle));
  if (!angle) return;
  const double w = sample.img.cols, h = sample.img.rows;
  const std::array<double, 2> center = options_.center.value_or(std::array<double, 2>{(w - 1) * 0.5, (h - 1) * 0.5});
  // cv2.getRotationMatrix2D takes the centre as float32, and -angle: positive is clockwise.
  const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(static_cast<float>(center[0]), static_cast<float>(center[1])),
                                              -*angle, options_.scale);
  const cv::Matx23d matrix(rot);
  warp_rasters(sample, matrix, cv::INTER_LINEAR, options_.common);
  const auto map = [&](double x, double y) {
    return std::array<double, 2>{matrix(0, 0) * x + matrix(0, 1) * y + matrix(0, 2),
                                 matrix(1, 0) * x + matrix(1, 1) * y + matrix(1, 2)};
  };
  sample.gt_bboxes = map_box_corners(sample.gt_bboxes, w, h, map);
  sample.gt_bboxes_ignore = map_box_corners(sample.gt_bboxes_ignore, w, h, map);
  map_polygons(sample.gt_polygons, w, h, map);
  filter_invalid(sample, 0, "Rotate");
}

Translate::Translate(Options options, const std::string& where)
    : options_(std::move(options)),
      offset_(static_cast<int64_t>(level_to_value(options_.common.level, options_.max_translate_offset))) {
  check_common(options_.common, where);
}

void Translate::apply(Sample& sample) {
  const std::optional<double> value = draw_value(options_.common, static_cast<double>(offset_));
  if (!value) return;
  const double offset = *value;
  const bool horizontal = options_.horizontal;
  const double w = sample.img.cols, h = sample.img.rows;
  const cv::Matx23d matrix = horizontal ? cv::Matx23d(1, 0, offset, 0, 1, 0) : cv::Matx23d(1, 0, 0, 0, 1, offset);
  warp_rasters(sample, matrix, cv::INTER_LINEAR, options_.common);
  // Boxes: float32 shift of the moved axis, clipped to the image on that axis only.
  const float shift = static_cast<float>(offset);
  const int lo = horizontal ? 0 : 1;
  const float limit = static_cast<float>(horizontal ? w : h);
  for (torch::Tensor* boxes : {&sample.gt_bboxes, &sample.gt_bboxes_ignore}) {
    if (!boxes->defined() || boxes->numel() == 0) continue;
    torch::Tensor out = boxes->to(torch::kFloat32).contiguous().clone();
    float* b = out.data_ptr<float>();
    for (int64_t i = 0; i < out.size(0); ++i, b += 4) {
      b[lo] = std::max(0.0f, b[lo] + shift);
      b[lo + 2] = std::min(limit, b[lo + 2] + shift);
    }
    *boxes = out;
  }
  // Polygons: the moved coordinate shifted and clamped to the image.
  const double bound = horizontal ? w : h;
  for (auto& instance : sample.gt_polygons)
    for (std::vector<double>& ring : instance)
      for (size_t k = static_cast<size_t>(lo); k < ring.size(); k += 2) ring[k] = std::clamp(ring[k] + offset, 0.0, bound);
  filter_invalid(sample, options_.min_size, "Translate");
}

}  // namespace cppdet::data
