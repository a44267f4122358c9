#include "cppdet/data/transforms/random_flip.h"

#include <opencv2/core.hpp>

#include "cppdet/core/error.h"
#include "cppdet/data/transforms/random.h"

namespace cppdet::data {

void check_flip_direction(const std::string& direction, const std::string& path) {
  if (direction != "horizontal" && direction != "vertical" && direction != "diagonal")
    throw ConfigError(path + ": unknown flip direction '" + direction + "'; known: horizontal, vertical, diagonal");
}

torch::Tensor flip_boxes(const torch::Tensor& boxes, int64_t w, int64_t h, const std::string& direction) {
  if (!boxes.defined() || boxes.numel() == 0) return boxes;
  const bool flip_x = direction == "horizontal" || direction == "diagonal";
  const bool flip_y = direction == "vertical" || direction == "diagonal";
  std::vector<torch::Tensor> c = boxes.unbind(1);  // x1, y1, x2, y2
  torch::Tensor x1 = flip_x ? w - c[2] : c[0];
  torch::Tensor x2 = flip_x ? w - c[0] : c[2];
  torch::Tensor y1 = flip_y ? h - c[3] : c[1];
  torch::Tensor y2 = flip_y ? h - c[1] : c[3];
  return torch::stack({x1, y1, x2, y2}, 1);
}

cv::Mat flip_image(const cv::Mat& img, const std::string& direction) {
  cv::Mat out;
  cv::flip(img, out, direction == "horizontal" ? 1 : direction == "vertical" ? 0 : -1);
  return out;
}

RandomFlip::RandomFlip(Options options) : options_(std::move(options)) {
  for (const std::string& d : options_.direction) check_flip_direction(d, "RandomFlip.direction");
  double total = 0;
  for (double r : options_.flip_ratio) {
    if (r < 0 || r > 1) throw ConfigError("RandomFlip.flip_ratio: each ratio must be in [0, 1]");
    total += r;
  }
  if (options_.flip_ratio.size() > 1 && options_.flip_ratio.size() != options_.direction.size())
    throw ConfigError("RandomFlip: flip_ratio and direction lists must have the same length");
  if (total > 1 + 1e-9) throw ConfigError("RandomFlip.flip_ratio: the ratios sum to more than 1");
}

void RandomFlip::apply(Sample& sample) {
  if (!sample.flip_decided) {
    // Draw one of the directions (or no flip) with the configured probabilities.
    std::vector<double> probs = options_.flip_ratio;
    if (probs.size() == 1 && options_.direction.size() > 1)
      probs.assign(options_.direction.size(), probs[0] / static_cast<double>(options_.direction.size()));
    double u = random_unit();
    sample.meta.flip = false;
    sample.meta.flip_direction.clear();
    for (size_t i = 0; i < probs.size(); ++i) {
      if (u < probs[i]) {
        sample.meta.flip = true;
        sample.meta.flip_direction = options_.direction[i];
        break;
      }
      u -= probs[i];
    }
    sample.flip_decided = true;
  }
  if (!sample.meta.flip) return;
  const std::string& dir = sample.meta.flip_direction;
  sample.img = flip_image(sample.img, dir);
  const int64_t w = sample.meta.img_shape[1], h = sample.meta.img_shape[0];
  sample.gt_bboxes = flip_boxes(sample.gt_bboxes, w, h, dir);
  sample.gt_bboxes_ignore = flip_boxes(sample.gt_bboxes_ignore, w, h, dir);
  if (sample.gt_masks.defined() && sample.gt_masks.numel() > 0) {
    if (dir != "vertical") sample.gt_masks = sample.gt_masks.flip({2});
    if (dir != "horizontal") sample.gt_masks = sample.gt_masks.flip({1});
  }
  const bool flip_x = dir != "vertical", flip_y = dir != "horizontal";
  for (auto& instance : sample.gt_polygons)
    for (std::vector<double>& ring : instance)
      for (size_t k = 0; k < ring.size(); ++k) {
        if (k % 2 == 0 && flip_x) ring[k] = static_cast<double>(w) - ring[k];
        if (k % 2 == 1 && flip_y) ring[k] = static_cast<double>(h) - ring[k];
      }
  if (!sample.gt_semantic_seg.empty()) sample.gt_semantic_seg = flip_image(sample.gt_semantic_seg, dir);
}

}  // namespace cppdet::data
