#pragma once
// Image loading steps (mmdet's LoadImageFromFile / LoadImageFromWebcam).
#include <string>

#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// [h, w, c] of an image.
std::array<int64_t, 3> shape_of(const cv::Mat& img);

// Decodes an image file as mmcv.imfrombytes does: cv::imdecode(IMREAD_COLOR) -> BGR uint8
// with EXIF orientation applied. Throws FileFormatError naming the file when it is missing,
// unreadable or not a decodable image; warns once per file when a JPEG's data ends early (the
// decoder fills in the rest, as in mmcv).
cv::Mat read_image_bgr(const std::string& path, bool apply_exif_orientation = true);

// Reads img_prefix + img_file into `img`; sets meta.filename, ori_filename, ori_shape,
// img_shape.
class LoadImageFromFile : public SampleTransform {
 public:
  struct Options {
    bool to_float32 = false;
    bool ignore_orientation = false;  // color_type='color_ignore_orientation'
    bool to_rgb = false;              // channel_order='rgb'
  };
  explicit LoadImageFromFile(Options options) : options_(options) {}
  void apply(Sample& sample) override;

 private:
  Options options_;
};

// Takes an image the caller already put in `img` (BGR); sets the same keys with an empty
// filename.
class LoadImageFromWebcam : public SampleTransform {
 public:
  explicit LoadImageFromWebcam(bool to_float32 = false) : to_float32_(to_float32) {}
  void apply(Sample& sample) override;

 private:
  bool to_float32_;
};

}  // namespace cppdet::data
