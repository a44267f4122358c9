#include "cppdet/data/transforms/photometric_augment.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include "cppdet/config/python_repr.h"
#include "cppdet/core/error.h"
#include "cppdet/data/transforms/random.h"

namespace cppdet::data {
namespace {

// x * f + d * (1 - f) in float64, rounded to float32, clipped to [0, 255] and truncated: what
// mmcv's adjust_brightness / adjust_contrast get from cv2.addWeighted on float32 images
// (double scalars) followed by np.clip and astype(uint8).
cv::Mat blend_towards(const cv::Mat& img, double factor, double d) {
  const double rest = 1.0 - factor;
  std::array<uint8_t, 256> lut{};
  for (int x = 0; x < 256; ++x) {
    const float v = static_cast<float>(x * factor + d * rest + 0.0);
    lut[static_cast<size_t>(x)] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
  }
  cv::Mat out;
  cv::LUT(img, cv::Mat(1, 256, CV_8U, lut.data()), out);
  return out;
}

const char* kind_name(PhotometricAugment::Kind kind) {
  switch (kind) {
    case PhotometricAugment::Kind::kColor: return "ColorTransform";
    case PhotometricAugment::Kind::kBrightness: return "BrightnessTransform";
    case PhotometricAugment::Kind::kContrast: return "ContrastTransform";
    case PhotometricAugment::Kind::kEqualize: return "EqualizeTransform";
  }
  return "";
}

}  // namespace

double enhance_level_to_value(double level) { return level / 10 * 1.8 + 0.1; }

cv::Mat adjust_color(const cv::Mat& img, double factor) {
  CV_Assert(img.type() == CV_8UC3);
  cv::Mat gray;
  cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  // cv2.addWeighted(img, a, gray, b, 0) with a, b as float32; OpenCV's AVX2 kernel computes
  // fma(img, a, fma(gray, b, 0)). Both products are exact in float64 and so is their sum, so
  // rounding each fma result to float32 once reproduces it on any CPU.
  const double a = static_cast<float>(factor), b = static_cast<float>(1.0 - factor);
  std::array<double, 256> gray_term{};
  for (int g = 0; g < 256; ++g) gray_term[static_cast<size_t>(g)] = static_cast<float>(g * b);
  cv::Mat out(img.size(), CV_8UC3);
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* src = img.ptr<uint8_t>(y);
    const uint8_t* gy = gray.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = static_cast<float>(src[3 * x + c] * a + gray_term[gy[x]]);
        dst[3 * x + c] = cv::saturate_cast<uint8_t>(v);  // round half to even, saturate
      }
  }
  return out;
}

cv::Mat adjust_brightness(const cv::Mat& img, double factor) {
  CV_Assert(img.depth() == CV_8U);
  return blend_towards(img, factor, 0.0);
}

cv::Mat adjust_contrast(const cv::Mat& img, double factor) {
  CV_Assert(img.type() == CV_8UC3);
  cv::Mat gray;
  cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  // round(sum / count): exact integer sum, Python's round half to even.
  const double sum = cv::sum(gray)[0];
  const double mean = std::nearbyint(sum / static_cast<double>(gray.total()));
  return blend_towards(img, factor, mean);
}

cv::Mat equalize_image(const cv::Mat& img) {
  CV_Assert(img.depth() == CV_8U);
  std::vector<cv::Mat> channels;
  cv::split(img, channels);
  for (cv::Mat& ch : channels) {
    std::array<int64_t, 256> hist{};
    for (int y = 0; y < ch.rows; ++y) {
      const uint8_t* p = ch.ptr<uint8_t>(y);
      for (int x = 0; x < ch.cols; ++x) ++hist[p[x]];
    }
    int64_t total = 0, last_nonzero = 0;
    for (int64_t count : hist)
      if (count > 0) total += count, last_nonzero = count;
    const int64_t step = (total - last_nonzero) / 255;
    if (step == 0) continue;  // (nearly) one value: unchanged
    // lut[i] = (cumsum[i - 1] + step // 2) // step, lut[0] = 0, capped at 255.
    std::array<uint8_t, 256> lut{};
    int64_t cumsum = 0;
    for (size_t i = 1; i < 256; ++i) {
      cumsum += hist[i - 1];
      lut[i] = static_cast<uint8_t>(std::min<int64_t>((cumsum + step / 2) / step, 255));
    }
    cv::LUT(ch, cv::Mat(1, 256, CV_8U, lut.data()), ch);
  }
  cv::Mat out;
  cv::merge(channels, out);
  return out;
}

PhotometricAugment::PhotometricAugment(Options options, const std::string& where)
    : options_(options), name_(kind_name(options.kind)) {
  if (options_.kind != Kind::kEqualize && !(options_.level >= 0 && options_.level <= 10))
    throw ConfigError(where + ".level: must be in [0, 10], got " + config::python_float_repr(options_.level));
  if (!(options_.prob >= 0 && options_.prob <= 1))
    throw ConfigError(where + ".prob: must be in [0, 1], got " + config::python_float_repr(options_.prob));
}

void PhotometricAugment::apply(Sample& sample) {
  if (!random_apply(options_.prob)) return;
  if (sample.img.type() != CV_8UC3)
    throw UserError(name_ + ": image '" + sample.img_file +
                    "' is not a 3-channel uint8 picture (place the step before Normalize)");
  const double factor = enhance_level_to_value(options_.level);
  switch (options_.kind) {
    case Kind::kColor: sample.img = adjust_color(sample.img, factor); break;
    case Kind::kBrightness: sample.img = adjust_brightness(sample.img, factor); break;
    case Kind::kContrast: sample.img = adjust_contrast(sample.img, factor); break;
    case Kind::kEqualize: sample.img = equalize_image(sample.img); break;
  }
}

}  // namespace cppdet::data
