#pragma once
// Interface of box samplers (mmdet's BBOX_SAMPLERS): which assigned candidates a head trains on.
#include <torch/types.h>

#include "cppdet/models/task/assign_result.h"
#include "cppdet/models/task/sampling_result.h"

namespace cppdet::models {

class BBoxSampler {
 public:
  virtual ~BBoxSampler() = default;
  // bboxes [M, 4 or 5] candidates (extra columns dropped), gt_bboxes [K, 4], gt_labels [K]
  // (needed when the sampler adds gts as proposals). `assign_result` may be extended (add_gt).
  virtual SamplingResult sample(AssignResult& assign_result, const torch::Tensor& bboxes,
                                const torch::Tensor& gt_bboxes, const torch::Tensor& gt_labels) = 0;
  // False for PseudoSampler: dense heads then average their losses over positives only.
  virtual bool is_sampling() const { return true; }
};

}  // namespace cppdet::models
