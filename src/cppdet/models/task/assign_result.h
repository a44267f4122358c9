#pragma once
// The result of assigning ground-truth boxes to candidate boxes (mmdet's AssignResult).
#include <torch/types.h>

namespace cppdet::models {

struct AssignResult {
  int64_t num_gts = 0;
  torch::Tensor gt_inds;       // [M] int64: -1 ignored, 0 negative, i > 0 assigned to gt i - 1
  torch::Tensor max_overlaps;  // [M] float: best IoU of each candidate with any gt
  torch::Tensor labels;        // [M] int64 class of the assigned gt (-1 otherwise); undefined
                               // when the assigner got no gt labels (RPN)

  // mmdet's add_gt_: the gts become candidates 0..K-1 in front, assigned to themselves with
  // IoU 1 (RCNN sampling with add_gt_as_proposals).
  void add_gt(const torch::Tensor& gt_labels);
  int64_t num_pos() const;
};

}  // namespace cppdet::models
