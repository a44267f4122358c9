#include "cppdet/data/transforms/normalize.h"

#include <opencv2/core.hpp>

#include "cppdet/core/error.h"

namespace cppdet::data {

namespace {

template <typename T>
void normalize_rows(const cv::Mat& img, cv::Mat& out, const float mean[3], const float stdev[3], bool to_rgb) {
  for (int y = 0; y < img.rows; ++y) {
    const T* src = img.ptr<T>(y);
    float* dst = out.ptr<float>(y);
    for (int x = 0; x < img.cols; ++x, src += 3, dst += 3) {
      for (int c = 0; c < 3; ++c) {
        const float v = static_cast<float>(src[to_rgb ? 2 - c : c]);
        dst[c] = (v - mean[c]) / stdev[c];
      }
    }
  }
}

}  // namespace

cv::Mat normalize_image(const cv::Mat& img, const ImageNormConfig& cfg) {
  if (img.channels() != 3) throw UserError("Normalize: expected a 3-channel image, got " + std::to_string(img.channels()));
  // All in float32: (x - float32(mean)) / float32(std). This reproduces the reference's
  // normalised values bit for bit; multiplying by a reciprocal (float or double) does not.
  float mean[3], stdev[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<float>(cfg.mean[c]);
    stdev[c] = static_cast<float>(cfg.std[c]);
  }
  cv::Mat out(img.rows, img.cols, CV_32FC3);
  if (img.depth() == CV_8U) {
    normalize_rows<uint8_t>(img, out, mean, stdev, cfg.to_rgb);
  } else if (img.depth() == CV_32F) {
    normalize_rows<float>(img, out, mean, stdev, cfg.to_rgb);
  } else {
    throw UserError("Normalize: expected a uint8 or float32 image");
  }
  return out;
}

void Normalize::apply(Sample& sample) {
  sample.img = normalize_image(sample.img, cfg_);
  sample.img_norm_cfg = cfg_;
}

}  // namespace cppdet::data
