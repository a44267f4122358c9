#include "cppdet/data/transforms/loading.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cppdet/core/error.h"
#include "cppdet/core/warnings.h"
#include "cppdet/data/transforms/jpeg_completeness.h"

namespace cppdet::data {

std::array<int64_t, 3> shape_of(const cv::Mat& img) { return {img.rows, img.cols, img.channels()}; }

cv::Mat read_image_bgr(const std::string& path, bool apply_exif_orientation) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileFormatError("image file not found: " + path);
  if (std::filesystem::is_directory(path, ec)) throw FileFormatError("image path is a directory: " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileFormatError("cannot open image file: " + path);
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw FileFormatError("image file is empty: " + path);
  const int flags = apply_exif_orientation ? cv::IMREAD_COLOR : (cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  cv::Mat img;
  try {
    img = cv::imdecode(bytes, flags);
  } catch (const cv::Exception&) {
    img.release();
  }
  if (img.empty()) throw FileFormatError("cannot decode image file (corrupt or unsupported format): " + path);
  // Like mmcv, keep what the decoder made of a cut-off JPEG, but say so.
  if (jpeg_ends_prematurely(bytes.data(), bytes.size()))
    warn_once("truncated:" + path, path + ": premature end of JPEG data (truncated file?); the decoder filled in the "
                                          "missing part of the image, so results on it may be wrong");
  return img;
}

namespace {

void set_loaded_meta(Sample& sample, bool to_float32) {
  if (to_float32) sample.img.convertTo(sample.img, CV_32F);
  sample.meta.ori_shape = shape_of(sample.img);
  sample.meta.img_shape = sample.meta.ori_shape;
}

}  // namespace

void LoadImageFromFile::apply(Sample& sample) {
  const std::string path = sample.img_prefix.empty()
                               ? sample.img_file
                               : (std::filesystem::path(sample.img_prefix) / sample.img_file).string();
  sample.img = read_image_bgr(path, !options_.ignore_orientation);
  if (options_.to_rgb) cv::cvtColor(sample.img, sample.img, cv::COLOR_BGR2RGB);
  sample.meta.filename = path;
  sample.ori_filename = sample.img_file;
  set_loaded_meta(sample, options_.to_float32);
}

void LoadImageFromWebcam::apply(Sample& sample) {
  if (sample.img.empty()) throw UserError("LoadImageFromWebcam: the sample has no image");
  if (sample.img.channels() != 3)
    throw UserError("LoadImageFromWebcam: expected a 3-channel BGR image, got " +
                    std::to_string(sample.img.channels()) + " channels");
  sample.meta.filename.clear();
  sample.ori_filename.clear();
  set_loaded_meta(sample, to_float32_);
}

}  // namespace cppdet::data
