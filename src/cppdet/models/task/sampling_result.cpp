#include "cppdet/models/task/sampling_result.h"

namespace cppdet::models {

SamplingResult::SamplingResult(const torch::Tensor& pos, const torch::Tensor& neg, const torch::Tensor& candidates,
                               const torch::Tensor& gt_bboxes, const AssignResult& assign_result,
                               const torch::Tensor& gt_flags)
    : pos_inds(pos), neg_inds(neg), num_gts(assign_result.num_gts) {
  pos_bboxes = candidates.index_select(0, pos_inds);
  neg_bboxes = candidates.index_select(0, neg_inds);
  pos_is_gt = gt_flags.index_select(0, pos_inds);
  pos_assigned_gt_inds = assign_result.gt_inds.index_select(0, pos_inds) - 1;
  if (gt_bboxes.numel() == 0) {
    pos_gt_bboxes = torch::empty({0, 4}, candidates.options());
  } else {
    pos_gt_bboxes = gt_bboxes.reshape({-1, 4}).index_select(0, pos_assigned_gt_inds);
  }
  if (assign_result.labels.defined()) pos_gt_labels = assign_result.labels.index_select(0, pos_inds);
}

torch::Tensor SamplingResult::bboxes() const { return torch::cat({pos_bboxes, neg_bboxes}); }

}  // namespace cppdet::models
