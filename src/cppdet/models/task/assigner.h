#pragma once
// Interface of box assigners (mmdet's BBOX_ASSIGNERS): which candidate box learns which gt.
#include <torch/types.h>

#include "cppdet/models/task/assign_result.h"

namespace cppdet::models {

class BBoxAssigner {
 public:
  virtual ~BBoxAssigner() = default;
  // bboxes [M, 4 or 5] candidates (a 5th score column is ignored); gt_bboxes [K, 4];
  // gt_bboxes_ignore [J, 4] or undefined; gt_labels [K] int64 or undefined (then the
  // result has no labels).
  virtual AssignResult assign(const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes,
                              const torch::Tensor& gt_bboxes_ignore, const torch::Tensor& gt_labels) const = 0;
};

}  // namespace cppdet::models
