#pragma once
// One image's annotations as a dataset hands them to the pipeline (mmdet's get_ann_info dict):
// boxes and labels to train on, boxes to ignore (crowd / difficult), and the instance masks
// in their file form (polygons or RLE), rasterised later by LoadAnnotations.
#include <torch/types.h>

#include <string>
#include <vector>

#include "cppdet/evaluation/mask_rle.h"

namespace cppdet::data {

// One instance's segmentation as the annotation file gives it.
struct MaskAnnotation {
  enum class Kind { kNone, kPolygons, kRle };
  Kind kind = Kind::kNone;
  std::vector<std::vector<double>> polygons;  // rings [x0, y0, x1, y1, ...] in image pixels
  evaluation::Rle rle;                        // kRle: counts already decompressed, its own size
};

struct AnnInfo {
  torch::Tensor bboxes;          // [n, 4] float32 x1, y1, x2, y2 (original image pixels)
  torch::Tensor labels;          // [n] int64, 0-based index into the dataset's classes
  torch::Tensor bboxes_ignore;   // [m, 4] float32 (crowd boxes, difficult objects)
  torch::Tensor labels_ignore;   // [m] int64 (XML datasets; empty for COCO)
  std::vector<MaskAnnotation> masks;  // n entries for COCO-style datasets, else empty
  std::string seg_map;                // semantic map file name (COCO: file name with jpg -> png)
  int64_t height = 0;                 // the image size polygons are rasterised at (img_info)
  int64_t width = 0;
};

}  // namespace cppdet::data
