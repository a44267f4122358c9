#pragma once
// One image's detections in the form test results are kept, written (--out) and evaluated:
// mmdet's per-image result after encode_mask_results — per class a [k, 5] box array and, for
// mask models, one COCO RLE per box.
#include <torch/types.h>

#include <string>
#include <vector>

#include "cppdet/evaluation/mask_rle.h"
#include "cppdet/structures/det_result.h"

namespace cppdet::data {

struct ImageDetections {
  // One entry per class: [k, 5] float32 CPU x1, y1, x2, y2, score in original-image pixels.
  std::vector<torch::Tensor> bboxes;
  // Empty for box-only models; else one entry per class, masks[c][i] belonging to bboxes[c][i].
  std::vector<std::vector<evaluation::Rle>> masks;

  bool has_masks() const { return !masks.empty(); }
  size_t num_classes() const { return bboxes.size(); }
};

// Boxes copied to CPU float32; each [H, W] bool mask run-length encoded (column-major, as
// pycocotools' encode).
ImageDetections encode_detections(const DetResult& result);

// A lossless byte form of a list of results (the boxes' float bits and the RLE counts as
// they are), for sending them between processes; decode_detection_list(encode(x)) == x.
// decode throws FileFormatError for bytes that are not such a list.
std::string encode_detection_list(const std::vector<ImageDetections>& results);
std::vector<ImageDetections> decode_detection_list(const std::string& bytes);

}  // namespace cppdet::data
