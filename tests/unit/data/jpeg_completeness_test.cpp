// jpeg_ends_prematurely: cut-off JPEGs (baseline, progressive, with restart markers) are
// recognised wherever they are cut; complete files and non-JPEG data are not flagged.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <iterator>

#include "cppdet/data/transforms/jpeg_completeness.h"
#include "support/test_support.h"

namespace cppdet::data {
namespace {

std::vector<uint8_t> encode(const std::string& ext, const std::vector<int>& params = {}) {
  cv::Mat img(96, 128, CV_8UC3);
  cv::randu(img, 0, 255);
  cv::GaussianBlur(img, img, cv::Size(5, 5), 0);
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, img, bytes, params));
  return bytes;
}

bool ends_prematurely(const std::vector<uint8_t>& bytes, size_t keep) {
  return jpeg_ends_prematurely(bytes.data(), std::min(keep, bytes.size()));
}

void expect_complete_but_every_cut_truncated(const std::vector<uint8_t>& jpeg) {
  ASSERT_GT(jpeg.size(), 200u);
  EXPECT_FALSE(ends_prematurely(jpeg, jpeg.size()));
  // Every cut, from inside the headers to just before EOI, is premature.
  for (size_t keep = 2; keep + 1 < jpeg.size(); keep += 7) EXPECT_TRUE(ends_prematurely(jpeg, keep)) << keep;
  EXPECT_TRUE(ends_prematurely(jpeg, jpeg.size() - 1));
}

TEST(JpegCompleteness, BaselineProgressiveAndRestartMarkers) {
  expect_complete_but_every_cut_truncated(encode(".jpg"));
  expect_complete_but_every_cut_truncated(encode(".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  expect_complete_but_every_cut_truncated(encode(".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 2}));
}

TEST(JpegCompleteness, BytesAfterTheEndMarkerAreNotTruncation) {
  std::vector<uint8_t> jpeg = encode(".jpg");
  jpeg.insert(jpeg.end(), {0x00, 0x00, 0xFF, 0x12, 0x34});
  EXPECT_FALSE(ends_prematurely(jpeg, jpeg.size()));
}

TEST(JpegCompleteness, RealPhotoAndItsFirst3KB) {
  std::ifstream in(testing::source_dir() + "/demo/demo.jpg", std::ios::binary);
  const std::vector<uint8_t> jpeg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(jpeg.size(), 3072u);
  EXPECT_FALSE(ends_prematurely(jpeg, jpeg.size()));
  EXPECT_TRUE(ends_prematurely(jpeg, 3072));
}

TEST(JpegCompleteness, OtherFormatsAndEmptyInputAreNotFlagged) {
  const std::vector<uint8_t> png = encode(".png");
  EXPECT_FALSE(ends_prematurely(png, png.size()));
  EXPECT_FALSE(ends_prematurely(png, png.size() / 2));
  EXPECT_FALSE(jpeg_ends_prematurely(nullptr, 0));
  const uint8_t soi_only[] = {0xFF, 0xD8};
  EXPECT_TRUE(jpeg_ends_prematurely(soi_only, 2));
}

}  // namespace
}  // namespace cppdet::data
