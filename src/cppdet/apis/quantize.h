#pragma once
// Post-training static int8 quantization of a detector (docs/inference.md, "int8"), what
// `cppdet quantize CONFIG CHECKPOINT --calib-images DIR --out model.int8.pth` runs:
//
//   1. the fp32 model runs the test pipeline on each calibration image, with every place where
//      the int8 model quantizes an activation recording the range it sees (per tensor, min/max);
//   2. the output file is the input checkpoint (its fp32 weights and meta, as read) plus
//      * one group of int8_calibration.<point>.{min,max,scale,zero_point} tensors per point
//        (models/precision/calibration.h),
//      * meta.config: the merged config as Python text (mmcv's pretty_text style),
//      * meta.int8_calibration: {"images": N, "points": P, "observer": "minmax",
//        "activations": "quint8 per-tensor affine", "weights": "qint8 per-output-channel symmetric",
//        "engine": "onednn"}.
// The weights are quantized when the file is loaded with --precision int8 (deterministically:
// per output channel, scale max|w| / 127), so the file is an ordinary checkpoint that loads in
// every precision and in PyTorch.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cppdet::apis {

struct QuantizeOptions {
  std::string config;      // config file
  std::string checkpoint;  // fp32 checkpoint
  std::vector<std::string> calib_images;  // image files
  std::string out;         // the int8 checkpoint to write
  std::vector<std::string> cfg_options;
};

struct QuantizeSummary {
  int64_t images = 0;  // calibration images run
  int64_t points = 0;  // activation points calibrated
};

// Calibrates and writes options.out. `on_image` is called after each image. UserError for a
// detector without an int8 path, no images, or an unreadable image.
QuantizeSummary quantize_detector(const QuantizeOptions& options, const std::function<void()>& on_image = {});

// The image files (.jpg .jpeg .png .bmp .tif .tiff .webp, any case) directly in `dir`, in name
// order, at most `max_images` (0: all). UserError when the folder is missing or has none.
std::vector<std::string> calibration_images(const std::string& dir, int64_t max_images = 0);

}  // namespace cppdet::apis
