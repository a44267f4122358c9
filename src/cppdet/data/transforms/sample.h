#pragma once
// The typed record that flows through a data pipeline (mmdet's `results` dict): one image,
// its metadata, and — in training — its annotations. Each transform reads and writes the
// fields it documents; nothing is looked up by string key.
#include <opencv2/core/mat.hpp>
#include <torch/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/data/datasets/ann_info.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::data {

// Normalize's parameters, kept for the record (mmdet's img_norm_cfg).
struct ImageNormConfig {
  std::array<double, 3> mean{0.0, 0.0, 0.0};
  std::array<double, 3> std{1.0, 1.0, 1.0};
  bool to_rgb = false;
};

struct Sample {
  // --- input location (LoadImageFromFile reads img_prefix + img_file) ---
  std::string img_prefix;  // may be empty
  std::string img_file;    // mmdet's img_info.filename
  std::string ori_filename;  // img_file as given (meta.filename is the joined path)

  // --- the image ---
  // HWC, BGR uint8 after loading (float32 after Normalize, RGB if to_rgb) until
  // ImageToTensor / DefaultFormatBundle move it into `inputs`.
  cv::Mat img;
  torch::Tensor inputs;  // [3, H, W] after formatting

  ImageMeta meta;  // ori_shape, img_shape, pad_shape, scale_factor, flip, flip_direction
  std::optional<ImageNormConfig> img_norm_cfg;

  // --- requests set by MultiScaleFlipAug (or a caller) for Resize / RandomFlip ---
  std::optional<std::array<int64_t, 2>> scale;  // the target scale, as mmdet's (w, h) tuple
  std::optional<double> scale_factor_request;   // resize by this factor instead of a scale
  bool flip_decided = false;                    // meta.flip / meta.flip_direction are final
  bool keep_ratio = true;                       // set by Resize

  // --- the dataset's annotations of this image (training), read by LoadAnnotations ---
  std::shared_ptr<const AnnInfo> ann_info;

  // --- annotations (training); empty tensors when absent ---
  torch::Tensor gt_bboxes;         // [n, 4] float32 x1y1x2y2 in current image pixels
  torch::Tensor gt_bboxes_ignore;  // [m, 4] float32
  torch::Tensor gt_labels;         // [n] int64, 0-based class index
  torch::Tensor gt_masks;          // [n, H, W] uint8 bitmaps of the current image size
  // mmdet's PolygonMasks, for callers that keep polygons instead of bitmaps (LoadAnnotations
  // rasterises): per instance its rings [x0, y0, x1, y1, ...] in current image pixels.
  std::vector<std::vector<std::vector<double>>> gt_polygons;
  cv::Mat gt_semantic_seg;  // [H, W] uint8 label map (mmdet's seg_fields); empty when absent
};

}  // namespace cppdet::data
