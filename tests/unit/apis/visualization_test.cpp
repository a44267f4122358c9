// The drawing helpers behind show_result.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "cppdet/core/error.h"
#include "cppdet/visualization/draw_detections.h"
#include "cppdet/visualization/palette.h"

namespace cppdet::visualization {
namespace {

TEST(Palette, RandomPaletteIsNumpysSeed42) {
  // numpy: np.random.seed(42); np.random.randint(0, 256, size=(5, 3))
  const std::vector<Rgb> p = make_palette(std::nullopt, 5);
  const std::vector<Rgb> expected = {{102, 179, 92}, {14, 106, 71}, {188, 20, 102}, {121, 210, 214}, {74, 202, 87}};
  EXPECT_EQ(p, expected);
  EXPECT_EQ(make_palette(Rgb{1, 2, 3}, 2), (std::vector<Rgb>{{1, 2, 3}, {1, 2, 3}}));
}

TEST(Draw, AdaptiveLabelScale) {
  EXPECT_EQ(adaptive_label_scale(100), 0.5);
  EXPECT_DOUBLE_EQ(adaptive_label_scale(800 + 0.25 * 29200), 0.75);
  EXPECT_EQ(adaptive_label_scale(1e6), 1.0);
}

TEST(Draw, BoxesAboveThresholdInBboxColorAndMasksBlended) {
  cv::Mat img(100, 120, CV_8UC3, cv::Scalar(0, 0, 0));
  DetResult r;
  r.bboxes = {torch::tensor({{10.f, 10.f, 60.f, 60.f, 0.9f}, {70.f, 70.f, 110.f, 95.f, 0.1f}}), torch::zeros({0, 5})};
  torch::Tensor m = torch::zeros({2, 100, 120}, torch::kBool);
  m.index_put_({0, torch::indexing::Slice(20, 40), torch::indexing::Slice(20, 40)}, true);
  m.index_put_({1, torch::indexing::Slice(80, 90), torch::indexing::Slice(80, 100)}, true);
  r.masks = {m, torch::zeros({0, 100, 120}, torch::kBool)};
  DrawOptions o;
  o.text_color = Rgb{255, 255, 255};
  const cv::Mat out = draw_detections(img, r, {"thing", "other"}, o);
  // Box edge at alpha 0.8 of RGB (72, 101, 241) over black -> BGR (193, 81, 58).
  EXPECT_EQ(out.at<cv::Vec3b>(35, 10), cv::Vec3b(193, 81, 58));
  // Mask interior: 0.8 x the class-0 random palette colour (102, 179, 92) -> BGR (74, 143, 82).
  EXPECT_EQ(out.at<cv::Vec3b>(30, 30), cv::Vec3b(74, 143, 82));
  // The low-score detection (0.1 < 0.3) is not drawn at all.
  EXPECT_EQ(out.at<cv::Vec3b>(85, 90), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(70, 90), cv::Vec3b(0, 0, 0));
  // The input is not modified.
  EXPECT_EQ(cv::countNonZero(img.reshape(1)), 0);
}

TEST(Draw, ScaleResizesTheDrawingWithBoxesAndMasks) {
  cv::Mat img(50, 60, CV_8UC3, cv::Scalar(0, 0, 0));
  DetResult r;
  r.bboxes = {torch::tensor({{10.f, 10.f, 30.f, 30.f, 0.9f}})};
  torch::Tensor m = torch::zeros({1, 50, 60}, torch::kBool);
  m.index_put_({0, torch::indexing::Slice(12, 28), torch::indexing::Slice(12, 28)}, true);
  r.masks = {m};
  DrawOptions o;
  o.scale = 3.0;
  const cv::Mat out = draw_detections(img, r, {"thing"}, o);
  ASSERT_EQ(out.size(), cv::Size(180, 150));
  // The box edge moved to x = 30 (3 x 10) and keeps its thickness in output pixels.
  EXPECT_EQ(out.at<cv::Vec3b>(60, 30), cv::Vec3b(193, 81, 58));
  EXPECT_EQ(out.at<cv::Vec3b>(60, 33), cv::Vec3b(0, 0, 0));
  // The mask covers [36, 84) in the drawing: inside blended, outside untouched.
  EXPECT_EQ(out.at<cv::Vec3b>(80, 80), cv::Vec3b(74, 143, 82));
  EXPECT_EQ(out.at<cv::Vec3b>(130, 130), cv::Vec3b(0, 0, 0));
  o.scale = 0.0;
  EXPECT_THROW(draw_detections(img, r, {"thing"}, o), UserError);
}

}  // namespace
}  // namespace cppdet::visualization
