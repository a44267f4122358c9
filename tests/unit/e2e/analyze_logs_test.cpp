// `cppdet analyze-logs plot-curve | cal-train-time` on a fixture log.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using testing::shell_quote;

std::string fixture_log() { return testing::fixture("analysis/20240101_000000.log.json"); }

// Pixels that are neither the white figure nor the light axes background.
size_t drawn_pixels(const cv::Mat& img) {
  size_t n = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      n += p != cv::Vec3b(255, 255, 255) && p != cv::Vec3b(242, 234, 234);
    }
  return n;
}

TEST(AnalyzeLogs, PlotCurveWritesAPng) {
  const std::string out = testing::make_temp_dir("plot") + "/curves/losses.png";
  const auto r = testing::run_cppdet("analyze-logs plot-curve " + shell_quote(fixture_log()) + " " + shell_quote(fixture_log()) +
                                     " --keys loss_cls loss_bbox --legend a_cls a_bbox b_cls b_bbox --title losses --out " +
                                     shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("save curve to: " + out), std::string::npos) << r.output;
  const cv::Mat img = cv::imread(out, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 640);
  EXPECT_EQ(img.rows, 480);
  EXPECT_GT(drawn_pixels(img), 2000u);
}

TEST(AnalyzeLogs, PlotCurveMapPerEpochWithSize) {
  const std::string out = testing::make_temp_dir("plot-map") + "/map.png";
  const auto r = testing::run_cppdet("analyze-logs plot-curve " + shell_quote(fixture_log()) +
                                     " --keys bbox_mAP bbox_mAP_50 --width 800 --height 500 --out " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat img = cv::imread(out, cv::IMREAD_COLOR);
  ASSERT_EQ(img.size(), cv::Size(800, 500));
  EXPECT_GT(drawn_pixels(img), 1000u);
}

TEST(AnalyzeLogs, PlotCurveMissingKeyIsAnErrorAndWritesNothing) {
  const std::string dir = testing::make_temp_dir("plot-bad");
  const auto r = testing::run_cppdet("analyze-logs plot-curve " + shell_quote(fixture_log()) +
                                     " --keys segm_mAP --out " + shell_quote(dir + "/x.png"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("does not contain metric segm_mAP"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(AnalyzeLogs, CalTrainTime) {
  auto r = testing::run_cppdet("analyze-logs cal-train-time " + shell_quote(fixture_log()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "-----Analyze train time of " + fixture_log() + "-----\n"
                      "slowest epoch 2, average time is 0.4000\n"
                      "fastest epoch 1, average time is 0.2500\n"
                      "time std over epochs is 0.0750\n"
                      "average iter time: 0.3250 s/iter\n\n");
  r = testing::run_cppdet("analyze-logs cal-train-time --include-outliers " + shell_quote(fixture_log()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("fastest epoch 1, average time is 0.3333\ntime std over epochs is 0.0333\n"
                          "average iter time: 0.3667 s/iter"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace cppdet
