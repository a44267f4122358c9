#include "cppdet/models/task/pseudo_sampler.h"

namespace cppdet::models {

SamplingResult PseudoSampler::sample(AssignResult& assign_result, const torch::Tensor& bboxes,
                                     const torch::Tensor& gt_bboxes, const torch::Tensor& /*gt_labels*/) {
  // nonzero() is already ascending and unique.
  const torch::Tensor pos = torch::nonzero(assign_result.gt_inds > 0).squeeze(-1);
  const torch::Tensor neg = torch::nonzero(assign_result.gt_inds == 0).squeeze(-1);
  const torch::Tensor gt_flags = torch::zeros({bboxes.size(0)}, bboxes.options().dtype(torch::kUInt8));
  return SamplingResult(pos, neg, bboxes.narrow(1, 0, 4), gt_bboxes, assign_result, gt_flags);
}

}  // namespace cppdet::models
