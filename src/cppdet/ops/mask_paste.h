#pragma once
// Pasting low-resolution instance masks into the full image (mmdet 2.x FCNMaskHead
// get_seg_masks / _do_paste_mask): bilinear grid_sample (align_corners=False, zero padding) of
// the mask *probabilities* at the image's pixel centres mapped through the box, then a
// threshold. CPU pastes one detection at a time inside its box window (skip_empty), CUDA
// pastes chunks over the whole image, as mmdet does; both give the same pixels.
#include <torch/types.h>

namespace cppdet::ops {

// masks [N, h, w] float probabilities; boxes [N, 4] x1 y1 x2 y2 in target-image pixels.
// Returns [N, img_h, img_w]: bool (value >= threshold) when threshold >= 0, else uint8
// (value * 255, truncated) soft masks. Same device as `masks`.
torch::Tensor paste_masks(const torch::Tensor& masks, const torch::Tensor& boxes, int64_t img_h,
                          int64_t img_w, double threshold);

}  // namespace cppdet::ops
