#include "cppdet/models/task/mask_target.h"

#include <torch/autograd.h>

#include "cppdet/ops/roi_align.h"

namespace cppdet::models {

torch::Tensor mask_target_single(const torch::Tensor& pos_bboxes, const torch::Tensor& pos_assigned_gt_inds,
                                 const torch::Tensor& gt_masks, std::pair<int64_t, int64_t> mask_size) {
  torch::NoGradGuard no_grad;
  const int64_t num_pos = pos_bboxes.size(0);
  const auto [mh, mw] = mask_size;
  if (num_pos == 0 || gt_masks.size(0) == 0)
    return torch::zeros({0, mh, mw}, pos_bboxes.options().dtype(torch::kFloat32));
  const double max_h = static_cast<double>(gt_masks.size(1)), max_w = static_cast<double>(gt_masks.size(2));
  // Clipped like mmdet's numpy code (float32 boxes).
  torch::Tensor boxes = pos_bboxes.detach().to(torch::kFloat32).clone();
  boxes.select(1, 0).clamp_(0, max_w);
  boxes.select(1, 2).clamp_(0, max_w);
  boxes.select(1, 1).clamp_(0, max_h);
  boxes.select(1, 3).clamp_(0, max_h);
  const torch::Tensor fake_inds = torch::arange(num_pos, boxes.options()).unsqueeze(1);
  const torch::Tensor rois = torch::cat({fake_inds, boxes}, 1);
  const torch::Tensor masks = gt_masks.to(boxes.device())
                                  .index_select(0, pos_assigned_gt_inds.to(boxes.device()).to(torch::kLong))
                                  .to(torch::kFloat32)
                                  .unsqueeze(1);
  const torch::Tensor targets = ops::roi_align(masks, rois, mh, mw, 1.0, 0, /*aligned=*/true).squeeze(1);
  return (targets >= 0.5).to(torch::kFloat32);
}

torch::Tensor mask_target(const std::vector<SamplingResult>& sampling_results,
                          const std::vector<torch::Tensor>& gt_masks, std::pair<int64_t, int64_t> mask_size) {
  std::vector<torch::Tensor> targets;
  for (size_t i = 0; i < sampling_results.size(); ++i)
    targets.push_back(mask_target_single(sampling_results[i].pos_bboxes, sampling_results[i].pos_assigned_gt_inds,
                                         gt_masks.at(i), mask_size));
  return torch::cat(targets);
}

}  // namespace cppdet::models
