#include "cppdet/models/task/assign_result.h"

namespace cppdet::models {

void AssignResult::add_gt(const torch::Tensor& gt_labels) {
  const int64_t k = gt_labels.size(0);
  gt_inds = torch::cat({torch::arange(1, k + 1, gt_inds.options()), gt_inds});
  max_overlaps = torch::cat({torch::ones({k}, max_overlaps.options()), max_overlaps});
  if (labels.defined()) labels = torch::cat({gt_labels.to(labels.options()), labels});
}

int64_t AssignResult::num_pos() const { return (gt_inds > 0).sum().item<int64_t>(); }

}  // namespace cppdet::models
