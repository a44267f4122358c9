#pragma once
// A synthetic COCO-format instance-segmentation dataset of coloured shapes on textured
// backgrounds: the data of the quick start (`cppdet data synth-shapes`), small enough to train
// a Mask R-CNN from scratch on a CPU in minutes.
//
//   data::synth::ShapesOptions opt;            // 4 classes: circle, triangle, rectangle, star
//   opt.num_train = 400; opt.num_val = 50; opt.seed = 0;
//   data::synth::write_shapes_dataset("data/shapes", opt);
//   // data/shapes/{train,val}/000000.png ..., data/shapes/annotations/instances_{train,val}.json
//
// Each image holds 2..max_shapes shapes of random class, colour, size (tiny to large),
// rotation and aspect. Later shapes are drawn over earlier ones; a placement that would leave
// an earlier shape less than `min_visible` visible, or with a hole, is redrawn elsewhere, so
// every visible shape is annotated. Annotations describe the VISIBLE region: polygons traced
// around it (one ring per connected part; pycocotools rasterises them back to exactly its
// pixels), the tight box of its pixels, and the area of the rasterised polygons. The output depends only on the options (one
// std::mt19937 stream per image, seeded from (seed, split, index)).
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace cppdet::data::synth {

struct ShapesOptions {
  int64_t num_train = 400;
  int64_t num_val = 50;
  uint32_t seed = 0;
  int width = 256;
  int height = 256;
  int max_shapes = 6;           // shapes per image: uniform in [2, max_shapes]
  double min_radius = 8;        // circumradius range in pixels (log-uniform);
  double max_radius_frac = 0.3; // max radius = this x min(width, height)
  double min_visible = 0.6;     // visible fraction an occluded shape must keep
  int num_threads = 2;          // images rendered in parallel (output does not depend on it)
};

// The category names, in category-id order (ids 1..N).
const std::vector<std::string>& shape_classes();

// One annotated shape of an image, in COCO's conventions.
struct ShapeAnnotation {
  int64_t category_id = 0;                   // 1-based index into shape_classes()
  std::vector<std::vector<double>> polygons; // rings [x0, y0, x1, y1, ...] of the visible part
  double bbox[4] = {0, 0, 0, 0};             // [x, y, w, h] of the visible pixels
  double area = 0;                           // pixels of the rasterised polygons
};

struct ShapesImage {
  cv::Mat bgr;                               // [height, width] CV_8UC3
  cv::Mat visible;                           // CV_32S: 0 background, k = annotations[k-1]
  std::vector<ShapeAnnotation> annotations;
};

// Renders image `index` of a split ("train" or "val"); pure function of its arguments.
ShapesImage render_shapes_image(const ShapesOptions& options, const std::string& split, int64_t index);

// Writes out_dir/<split>/<index:06d>.png and out_dir/annotations/instances_<split>.json for
// both splits (each file written atomically). Throws UserError for invalid options and
// FileFormatError when a file cannot be written.
void write_shapes_dataset(const std::string& out_dir, const ShapesOptions& options);

}  // namespace cppdet::data::synth
