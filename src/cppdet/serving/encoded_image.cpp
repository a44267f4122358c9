#include "cppdet/serving/encoded_image.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>

#include "cppdet/serving/request_error.h"

namespace cppdet::serving {
namespace {

uint32_t be16(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 8) | static_cast<uint8_t>(b[at + 1]);
}

uint32_t be32(std::string_view b, size_t at) { return (be16(b, at) << 16) | be16(b, at + 2); }

[[noreturn]] void malformed(const char* format, const std::string& what) {
  throw RequestError(400, std::string("malformed ") + format + " image: " + what);
}

// JPEG (ITU T.81): SOI, then marker segments up to the first frame header (SOFn) that holds
// the size; the data must end with an EOI marker after it. Entropy-coded data escapes every
// 0xFF byte, so FF D9 after the frame header is the end of the image, not a coincidence.
ImageHeader jpeg_header(std::string_view b) {
  size_t pos = 2;  // after SOI (FF D8)
  for (;;) {
    if (pos >= b.size()) malformed("JPEG", "it ends before its frame header");
    if (static_cast<uint8_t>(b[pos]) != 0xFF) malformed("JPEG", "no marker at byte " + std::to_string(pos));
    while (pos < b.size() && static_cast<uint8_t>(b[pos]) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) malformed("JPEG", "it ends before its frame header");
    const uint8_t marker = static_cast<uint8_t>(b[pos]);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // TEM, RSTn: no length
      ++pos;
      continue;
    }
    if (marker == 0xD8 || marker == 0xD9 || marker == 0xDA || marker == 0x00)
      malformed("JPEG", "unexpected marker before the frame header at byte " + std::to_string(pos));
    if (pos + 2 >= b.size()) malformed("JPEG", "it ends before its frame header");
    const uint32_t length = be16(b, pos + 1);  // includes the two length bytes
    if (length < 2) malformed("JPEG", "a segment length below 2 at byte " + std::to_string(pos));
    const bool is_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_frame) {
      if (length < 8 || pos + 8 >= b.size()) malformed("JPEG", "a truncated frame header");
      ImageHeader h;
      h.format = ImageFormat::kJpeg;
      h.height = be16(b, pos + 4);
      h.width = be16(b, pos + 6);
      if (h.height == 0) malformed("JPEG", "the height is defined by a DNL marker (not supported)");
      const size_t frame_end = pos + 1 + length;
      bool has_eoi = false;
      for (size_t i = b.size(); i >= frame_end + 2 && !has_eoi; --i)
        has_eoi = static_cast<uint8_t>(b[i - 2]) == 0xFF && static_cast<uint8_t>(b[i - 1]) == 0xD9;
      if (!has_eoi) malformed("JPEG", "the data ends early (no end-of-image marker): truncated upload?");
      return h;
    }
    pos += 1 + length;
  }
}

// PNG: the signature, then IHDR (13 bytes: width, height, ...) as the first chunk; the data
// must contain the IEND chunk after it.
ImageHeader png_header(std::string_view b) {
  if (b.size() < 33 || b.substr(12, 4) != "IHDR" || be32(b, 8) != 13) malformed("PNG", "no IHDR chunk first");
  ImageHeader h;
  h.format = ImageFormat::kPng;
  h.width = be32(b, 16);
  h.height = be32(b, 20);
  const size_t iend = b.rfind("IEND");
  if (iend == std::string_view::npos || iend < 33)
    malformed("PNG", "the data ends early (no IEND chunk): truncated upload?");
  return h;
}

}  // namespace

ImageHeader read_image_header(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.empty()) throw RequestError(400, "empty request body: send the image bytes (JPEG or PNG)");
  ImageHeader h;
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") {
    h = jpeg_header(bytes);
  } else if (bytes.size() >= 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    h = png_header(bytes);
  } else {
    throw RequestError(415, "not a JPEG or PNG image (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (h.width < limits.min_side || h.height < limits.min_side)
    throw RequestError(400, "image too small: " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                                " pixels (at least " + std::to_string(limits.min_side) + " a side)");
  if (h.width * h.height > limits.max_pixels) {
    char text[160];
    std::snprintf(text, sizeof text, "image too large: %lldx%lld pixels (%.1f megapixels, at most %.1f)",
                  static_cast<long long>(h.width), static_cast<long long>(h.height),
                  static_cast<double>(h.width * h.height) / 1e6, static_cast<double>(limits.max_pixels) / 1e6);
    throw RequestError(413, text);
  }
  return h;
}

cv::Mat decode_image(std::string_view bytes) {
  const cv::Mat data(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat img;
  try {
    img = cv::imdecode(data, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    img.release();
  }
  if (img.empty()) throw RequestError(400, "cannot decode the image: corrupt JPEG or PNG data");
  return img;
}

}  // namespace cppdet::serving
