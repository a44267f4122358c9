#pragma once
// mmdet 2.x PseudoSampler: every positive (gt_inds > 0) and every negative (gt_inds == 0)
// is kept, nothing is added. Dense heads with it are "not sampling" (losses averaged over
// the positives). Config: dict(type='PseudoSampler') (other keys are accepted and unused,
// as mmdet ignores them).
#include "cppdet/models/task/sampler.h"

namespace cppdet::models {

class PseudoSampler : public BBoxSampler {
 public:
  SamplingResult sample(AssignResult& assign_result, const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes,
                        const torch::Tensor& gt_labels) override;
  bool is_sampling() const override { return false; }
};

}  // namespace cppdet::models
