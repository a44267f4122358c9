#pragma once
// The candidates a sampler picked for one image (mmdet's SamplingResult). Training heads
// use positives first, then negatives: rows = cat(pos_bboxes, neg_bboxes).
#include <torch/types.h>

#include "cppdet/models/task/assign_result.h"

namespace cppdet::models {

struct SamplingResult {
  torch::Tensor pos_inds;              // [P] int64, ascending indices into the candidates
  torch::Tensor neg_inds;              // [Q] int64, ascending
  torch::Tensor pos_bboxes;            // [P, 4]
  torch::Tensor neg_bboxes;            // [Q, 4]
  torch::Tensor pos_is_gt;             // [P] uint8: 1 where the candidate is a gt added as proposal
  torch::Tensor pos_assigned_gt_inds;  // [P] int64, 0-based gt index
  torch::Tensor pos_gt_bboxes;         // [P, 4] the assigned gt boxes
  torch::Tensor pos_gt_labels;         // [P] int64; undefined when the assignment had no labels
  int64_t num_gts = 0;

  // candidates [M, 4]; gt_flags [M] uint8; pos/neg indices as sampled.
  SamplingResult(const torch::Tensor& pos_inds, const torch::Tensor& neg_inds, const torch::Tensor& candidates,
                 const torch::Tensor& gt_bboxes, const AssignResult& assign_result, const torch::Tensor& gt_flags);
  // [P + Q, 4] positives then negatives.
  torch::Tensor bboxes() const;
};

}  // namespace cppdet::models
