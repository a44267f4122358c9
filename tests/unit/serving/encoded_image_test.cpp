// Reading an uploaded image's size from its header (before decoding) and decoding it.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "cppdet/serving/encoded_image.h"
#include "cppdet/serving/request_error.h"
#include "support/test_support.h"

namespace cppdet::serving {
namespace {

std::string encoded(const cv::Mat& img, const std::string& ext) {
  std::vector<uchar> bytes;
  cv::imencode(ext, img, bytes);
  return std::string(bytes.begin(), bytes.end());
}

std::string demo_jpeg() { return testing::read_text(testing::source_dir() + "/demo/demo.jpg"); }

// The status of the RequestError that reading the header throws (0 when none).
int refusal_of(const std::string& bytes, const ImageLimits& limits = {}) {
  try {
    read_image_header(bytes, limits);
  } catch (const RequestError& e) {
    return e.status();
  }
  return 0;
}

// `bytes` with the 16-bit big-endian value at `at` replaced.
std::string patch16(std::string bytes, size_t at, uint16_t v) {
  bytes[at] = static_cast<char>(v >> 8);
  bytes[at + 1] = static_cast<char>(v & 0xFF);
  return bytes;
}

TEST(ImageHeader, ReadsTheSizeOfJpegAndPng) {
  const ImageHeader jpeg = read_image_header(demo_jpeg(), {});
  EXPECT_EQ(jpeg.format, ImageFormat::kJpeg);
  EXPECT_EQ(jpeg.width, 640);
  EXPECT_EQ(jpeg.height, 427);
  const ImageHeader png = read_image_header(encoded(cv::Mat(17, 33, CV_8UC3, cv::Scalar(1, 2, 3)), ".png"), {});
  EXPECT_EQ(png.format, ImageFormat::kPng);
  EXPECT_EQ(png.width, 33);
  EXPECT_EQ(png.height, 17);
}

TEST(ImageHeader, RefusesEmptyForeignAndTruncatedData) {
  EXPECT_EQ(refusal_of(""), 400);
  EXPECT_EQ(refusal_of("this is not an image"), 415);
  EXPECT_EQ(refusal_of("GIF89a\x01\x00\x01\x00"), 415);
  const std::string jpeg = demo_jpeg();
  EXPECT_EQ(refusal_of(jpeg.substr(0, jpeg.size() * 6 / 10)), 400);  // scan data cut: no EOI
  EXPECT_EQ(refusal_of(jpeg.substr(0, 100)), 400);                    // cut before the frame header
  EXPECT_EQ(refusal_of(jpeg.substr(0, 3)), 400);
  const std::string png = encoded(cv::Mat(64, 64, CV_8UC3, cv::Scalar(9, 8, 7)), ".png");
  EXPECT_EQ(refusal_of(png.substr(0, png.size() - 20)), 400);  // no IEND
  EXPECT_EQ(refusal_of(png.substr(0, 20)), 400);                // no complete IHDR
}

TEST(ImageHeader, RefusesTinyImagesAndDecompressionBombsBeforeDecoding) {
  EXPECT_EQ(refusal_of(encoded(cv::Mat(1, 1, CV_8UC3, cv::Scalar(0, 0, 0)), ".png")), 400);
  EXPECT_EQ(refusal_of(encoded(cv::Mat(1, 1, CV_8UC3, cv::Scalar(0, 0, 0)), ".jpg")), 400);
  EXPECT_EQ(refusal_of(encoded(cv::Mat(16, 15, CV_8UC3, cv::Scalar(0, 0, 0)), ".png")), 400);
  EXPECT_EQ(refusal_of(encoded(cv::Mat(16, 16, CV_8UC3, cv::Scalar(0, 0, 0)), ".png")), 0);

  // A small PNG whose IHDR declares 20000x20000 pixels (1.2 GB decoded).
  std::string png = encoded(cv::Mat(16, 16, CV_8UC3, cv::Scalar(0, 0, 0)), ".png");
  png = patch16(patch16(png, 18, 20000), 22, 20000);  // IHDR width / height (low 16 bits)
  EXPECT_EQ(refusal_of(png), 413);
  // The same for a JPEG frame header; the limit is configurable.
  std::string jpeg = encoded(cv::Mat(16, 16, CV_8UC3, cv::Scalar(0, 0, 0)), ".jpg");
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg = patch16(patch16(jpeg, sof + 5, 20000), sof + 7, 20000);
  EXPECT_EQ(refusal_of(jpeg), 413);
  ImageLimits limits;
  limits.max_pixels = 640 * 427 - 1;
  EXPECT_EQ(refusal_of(demo_jpeg(), limits), 413);
  try {
    read_image_header(jpeg, {});
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_STREQ(e.what(), "image too large: 20000x20000 pixels (400.0 megapixels, at most 40.0)");
  }
}

TEST(DecodeImage, DecodesAsLoadImageFromFileAndRefusesGarbage) {
  const cv::Mat img = decode_image(demo_jpeg());
  const cv::Mat file = cv::imread(testing::source_dir() + "/demo/demo.jpg", cv::IMREAD_COLOR);
  ASSERT_EQ(img.type(), CV_8UC3);
  ASSERT_EQ(img.size(), file.size());
  EXPECT_EQ(cv::norm(img, file, cv::NORM_INF), 0.0);
  // A complete-looking JPEG whose content is noise.
  const std::string garbage = std::string("\xFF\xD8\xFF\xE0\x00\x02", 6) + std::string(200, '\x55') + "\xFF\xD9";
  try {
    decode_image(garbage);
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_EQ(e.status(), 400);
  }
}

}  // namespace
}  // namespace cppdet::serving
