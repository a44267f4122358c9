#pragma once
// A detector's output for one image, in mmdet's bbox2result layout.
#include <torch/types.h>

#include <string>
#include <vector>

namespace cppdet {

struct DetResult {
  // One entry per class: [k, 5] float32 CPU tensor of x1, y1, x2, y2, score in original-image
  // pixels (when rescaled), rows in descending score order.
  std::vector<torch::Tensor> bboxes;
  // Empty for box-only models; else one entry per class: [k, H, W] bool CPU tensor of the
  // original image size, row i belonging to bboxes[c][i].
  std::vector<torch::Tensor> masks;

  bool has_masks() const { return !masks.empty(); }
  size_t num_classes() const { return bboxes.size(); }
};

}  // namespace cppdet
