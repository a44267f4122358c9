#pragma once
// mmcv.parallel.collate for detection training samples: images zero-padded at the bottom and
// right to the largest height and width in the batch, then stacked; metas and ground truth
// kept per image (gt masks stay at each image's own pad_shape, as mmdet's BitmapMasks do).
#include <vector>

#include "cppdet/data/transforms/sample.h"
#include "cppdet/structures/det_sample.h"

namespace cppdet::data {

// `samples` must be non-empty, each with `inputs` [C, H, W] of one dtype and channel count.
DetBatch collate(std::vector<Sample> samples);

}  // namespace cppdet::data
