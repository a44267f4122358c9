#pragma once
// Ground truth of one training image and a collated training batch (mmdet's gt_* keys after
// DefaultFormatBundle + collate).
#include <torch/types.h>

#include <vector>

#include "cppdet/structures/image_meta.h"

namespace cppdet {

struct GtInstances {
  torch::Tensor bboxes;         // [K, 4] float32 x1, y1, x2, y2 in network-input (resized, flipped) pixels
  torch::Tensor labels;         // [K] int64, 0-based class index
  torch::Tensor bboxes_ignore;  // [J, 4] float32 (crowd boxes), possibly empty
  torch::Tensor masks;          // [K, pad_h, pad_w] uint8 {0,1} bitmaps; undefined for box-only datasets
};

struct DetBatch {
  torch::Tensor img;               // [N, 3, H, W] float32, normalized, zero-padded to the batch max
  std::vector<ImageMeta> metas;    // N entries
  std::vector<GtInstances> gts;    // N entries (empty at test time)
};

}  // namespace cppdet
