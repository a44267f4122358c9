#pragma once
// An uploaded image before and after decoding. The server reads the pixel size from the JPEG
// frame header or the PNG IHDR chunk and refuses an image outside ImageLimits before anything
// is decoded, so a decompression bomb (a few kilobytes declaring 20000x20000 pixels) never
// allocates its pixels; it also refuses data that ends early (a JPEG without the EOI marker
// after its frame header, a PNG without its IEND chunk), which OpenCV would otherwise decode
// into a partly grey image. Accepted images are decoded as cppdet infer decodes files.
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace cppdet::serving {

enum class ImageFormat { kJpeg, kPng };

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  int64_t width = 0;   // as stored, before any EXIF rotation
  int64_t height = 0;
};

// What an uploaded image may be (docs/serving.md, "Limits").
struct ImageLimits {
  int64_t min_side = 16;              // pixels, each side
  int64_t max_pixels = 40'000'000;    // width * height
};

// The format and size of `bytes`. Throws RequestError: 400 for empty, malformed or truncated
// data and for an image smaller than limits.min_side, 413 for more than limits.max_pixels,
// 415 for data that is neither JPEG nor PNG.
ImageHeader read_image_header(std::string_view bytes, const ImageLimits& limits);

// The 3-channel BGR uint8 image (EXIF orientation applied, as cv::imdecode(IMREAD_COLOR) and
// LoadImageFromFile do) of data that passed read_image_header. RequestError (400) when the
// data cannot be decoded.
cv::Mat decode_image(std::string_view bytes);

}  // namespace cppdet::serving
