#pragma once
// COCO run-length encoded masks, with the semantics of pycocotools' mask API (maskApi.c):
// every result, including the compressed string form and polygon rasterisation, is
// bit-identical to pycocotools.
//
// Conventions: a mask of h rows and w columns is stored column-major (pixel (y, x) has flat
// index x*h + y). `counts` alternates runs of 0s and 1s, starting with 0s (a leading run of
// length 0 when pixel (0,0) is set). Counts given by a user are kept verbatim (zero-length runs
// in the middle are not merged). Arithmetic on counts is 32-bit unsigned, as in maskApi.c.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cppdet::evaluation {

struct Rle {
  uint32_t h = 0;
  uint32_t w = 0;
  std::vector<uint32_t> counts;
};

// [x, y, w, h] in pixels (COCO box convention, no +1).
using BoxXywh = std::array<double, 4>;

// Encodes a column-major h*w byte mask (a run ends wherever the byte value changes).
Rle rle_encode(const uint8_t* mask_column_major, uint32_t h, uint32_t w);
// Decodes into a column-major h*w byte mask of 0/1. Runs beyond h*w are cut off; a mask whose
// counts sum to less than h*w is padded with 0.
std::vector<uint8_t> rle_decode(const Rle& rle);

// The compressed string form (6 bits per character, '0'..'o', deltas against counts[i-2] from i=3).
std::string rle_to_string(const Rle& rle);
// Parses the compressed form; never fails (any byte sequence decodes to some counts).
Rle rle_from_string(std::string_view s, uint32_t h, uint32_t w);

// Number of 1 pixels (sum of the odd-index counts, 32-bit unsigned like maskApi).
uint32_t rle_area(const Rle& rle);
// Tight box of the 1 pixels as [x, y, w, h]; [0,0,0,0] for an empty mask.
BoxXywh rle_to_bbox(const Rle& rle);

// Union (intersect=false) or intersection of masks. One input is returned verbatim; inputs of
// different sizes give an empty 0x0 mask (as pycocotools); no input gives a 0x0 mask.
Rle rle_merge(const std::vector<const Rle*>& rles, bool intersect);
Rle rle_merge(const std::vector<Rle>& rles, bool intersect);

// Polygon [x0, y0, x1, y1, ...] (pixel coordinates) rasterised exactly as pycocotools' frPoly.
Rle rle_from_polygon(const double* xy, size_t num_points, uint32_t h, uint32_t w);
Rle rle_from_polygon(const std::vector<double>& xy, uint32_t h, uint32_t w);
// Box [x, y, w, h] rasterised as the polygon of its four corners (pycocotools' frBbox).
Rle rle_from_bbox(const BoxXywh& box, uint32_t h, uint32_t w);

// IoU of two boxes; when gt_is_crowd the union is the detection's area. 0 without overlap.
double bbox_iou(const BoxXywh& dt, const BoxXywh& gt, bool gt_is_crowd);

// IoU of two masks whose boxes are precomputed (rle_to_bbox): 0 when the boxes do not overlap,
// -1 when the sizes differ, else intersection / union (or / detection area for crowd).
double rle_iou(const Rle& dt, const BoxXywh& dt_box, const Rle& gt, const BoxXywh& gt_box, bool gt_is_crowd);

// Matrices [num_dt][num_gt] as pycocotools' mask.iou (empty when either side is empty).
std::vector<std::vector<double>> bbox_iou_matrix(const std::vector<BoxXywh>& dt, const std::vector<BoxXywh>& gt,
                                                 const std::vector<uint8_t>& gt_is_crowd);
std::vector<std::vector<double>> rle_iou_matrix(const std::vector<Rle>& dt, const std::vector<Rle>& gt,
                                                const std::vector<uint8_t>& gt_is_crowd);

}  // namespace cppdet::evaluation
