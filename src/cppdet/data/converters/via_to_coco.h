#pragma once
// VIA (VGG Image Annotator) region json -> COCO instances json, with the semantics of
// MMDetection's balloon tutorial (convert_balloon_to_coco):
//   * images in the VIA file's order, id = index from 0, file_name = the VIA "filename",
//     height/width read from the image file in IMG_DIR (decoded as mmcv.imread does);
//   * one annotation per region, ids from 0 in order, category_id 0, iscrowd 0;
//     segmentation = [[x0+0.5, y0+0.5, x1+0.5, y1+0.5, ...]] (the points shifted by half a pixel);
//     bbox = [x_min, y_min, x_max-x_min, y_max-y_min] of the raw (unshifted) points;
//     area = bbox area (not the polygon's); integer inputs give integer bbox/area;
//   * categories = [{"id": 0, "name": <category>}].
// Accepted layouts: VIA 1 (a dict of images whose "regions" is a dict) and VIA 2 (regions as a
// list; a whole project file is read through its "_via_img_metadata"). region_attributes are
// ignored: every region gets the one category.
// Shapes other than polygons become polygons whose points go through the same rules:
//   rect {x, y, width, height}  -> its 4 corners (x,y), (x+w,y), (x+w,y+h), (x,y+h);
//   circle {cx, cy, r} and ellipse {cx, cy, rx, ry[, theta]} -> kEllipsePoints points on the
//     outline at angles 2*pi*k/kEllipsePoints (rotated by theta), so an axis-aligned shape
//     keeps its exact extremes and bbox;
// point / polyline / unknown shapes and polygons of fewer than 3 points are rejected with a
// FileFormatError naming the file, image and region.
#include <string>

#include "cppdet/data/converters/converter_io.h"

namespace cppdet::data::converters {

inline constexpr int kEllipsePoints = 32;

struct ViaToCocoOptions {
  std::string via_json;
  std::string image_dir;
  std::string category = "balloon";
  int num_threads = 1;  // threads decoding images for their sizes
};

// The COCO json (keys: images, annotations, categories).
OrderedJson via_to_coco(const ViaToCocoOptions& options);

}  // namespace cppdet::data::converters
