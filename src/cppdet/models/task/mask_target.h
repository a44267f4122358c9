#pragma once
// mmdet 2.x mask_target: the training target of each positive RoI is its gt's full-image
// bitmap (after resize / flip / pad) cropped by the RoI and resampled to mask_size with
// RoIAlign (avg, aligned=True, sampling_ratio 0, scale 1) on the float mask, then
// binarised with >= 0.5. RoIs are clipped to the mask's [0, W] x [0, H] first.
#include <torch/types.h>

#include <utility>
#include <vector>

#include "cppdet/models/task/sampling_result.h"

namespace cppdet::models {

// One image: pos_bboxes [P, 4], pos_assigned_gt_inds [P], gt_masks [K, H, W] (uint8 or
// bool) -> [P, mask_h, mask_w] float32 {0, 1} on pos_bboxes' device.
torch::Tensor mask_target_single(const torch::Tensor& pos_bboxes, const torch::Tensor& pos_assigned_gt_inds,
                                 const torch::Tensor& gt_masks, std::pair<int64_t, int64_t> mask_size);

// All images, concatenated in image order.
torch::Tensor mask_target(const std::vector<SamplingResult>& sampling_results,
                          const std::vector<torch::Tensor>& gt_masks, std::pair<int64_t, int64_t> mask_size);

}  // namespace cppdet::models
