// analyze-logs building blocks: the JSON log grouped per epoch, cal_train_time's numbers
// (hand-computed; numpy gives the same), the plotted series (iteration / epoch x axes),
// tick placement, and a drawn chart.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "cppdet/core/error.h"
#include "cppdet/visualization/json_log.h"
#include "cppdet/visualization/line_chart.h"
#include "cppdet/visualization/log_plot.h"
#include "cppdet/visualization/train_time.h"
#include "support/test_support.h"

namespace cppdet::visualization {
namespace {

std::string fixture_log() { return cppdet::testing::fixture("analysis/20240101_000000.log.json"); }

TEST(JsonLog, GroupsRecordsPerEpochSkippingTheMetaLine) {
  const JsonLog log = load_json_log(fixture_log());
  ASSERT_EQ(log.epochs.size(), 2u);
  EXPECT_EQ(log.epochs[0].epoch, 1);
  EXPECT_EQ(log.epochs[0].records.size(), 4u);
  EXPECT_FALSE(log.epochs[0].records[0].contains("epoch"));
  EXPECT_EQ(log.epochs[1].numbers("time"), (std::vector<double>{0.4, 0.3, 0.5}));
  EXPECT_EQ(log.epochs[1].numbers("bbox_mAP", "val"), (std::vector<double>{0.25}));
  EXPECT_EQ(log.epochs[0].numbers("iter", "train"), (std::vector<double>{50, 100, 150}));
}

TEST(JsonLog, MalformedLineNamesFileAndLine) {
  try {
    parse_json_log("{\"meta\": 1}\n{\"mode\": \"train\", \"epoch\": 1}\n{oops\n", "x.log.json");
    FAIL() << "expected an error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("x.log.json:3:"), std::string::npos) << e.what();
  }
}

TEST(TrainTime, HandComputedStatistics) {
  const JsonLog log = load_json_log(fixture_log());
  // Without the first value of each epoch: epoch means 0.25 and 0.4.
  const TrainTimeStats s = compute_train_time(log, false);
  ASSERT_EQ(s.epoch_mean_time.size(), 2u);
  EXPECT_NEAR(s.epoch_mean_time[0], 0.25, 1e-12);
  EXPECT_NEAR(s.epoch_mean_time[1], 0.4, 1e-12);
  EXPECT_EQ(s.slowest_epoch, 2u);
  EXPECT_EQ(s.fastest_epoch, 1u);
  EXPECT_NEAR(s.std_over_epochs, 0.075, 1e-12);
  EXPECT_NEAR(s.average_iter_time, 1.3 / 4, 1e-12);
  EXPECT_EQ(format_train_time("a.log.json", s),
            "-----Analyze train time of a.log.json-----\n"
            "slowest epoch 2, average time is 0.4000\n"
            "fastest epoch 1, average time is 0.2500\n"
            "time std over epochs is 0.0750\n"
            "average iter time: 0.3250 s/iter\n\n");
  const TrainTimeStats all = compute_train_time(log, true);  // means 1/3 and 0.4
  EXPECT_NEAR(all.epoch_mean_time[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(all.std_over_epochs, (0.4 - 1.0 / 3) / 2, 1e-12);
  EXPECT_NEAR(all.average_iter_time, 2.2 / 6, 1e-12);
}

TEST(TrainTime, EpochWithASingleValueNeedsOutliers) {
  const JsonLog log = parse_json_log("{}\n{\"mode\": \"train\", \"epoch\": 1, \"iter\": 5, \"time\": 0.5}\n", "one.log.json");
  EXPECT_THROW(compute_train_time(log, false), UserError);
  EXPECT_NEAR(compute_train_time(log, true).average_iter_time, 0.5, 1e-12);
}

TEST(LogPlot, TrainKeysPerIterationEvalKeysPerEpoch) {
  const std::vector<JsonLog> logs{load_json_log(fixture_log())};
  PlotCurveOptions o;
  o.keys = {"loss_cls", "bbox_mAP"};
  std::string xlabel;
  const std::vector<ChartSeries> s = log_curves(logs, o, &xlabel);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].label, fixture_log() + "_loss_cls");
  EXPECT_EQ(s[0].xs, (std::vector<double>{50, 100, 150, 200, 250, 300}));
  EXPECT_EQ(s[0].ys, (std::vector<double>{1.2, 1.0, 0.8, 0.7, 0.6, 0.5}));
  EXPECT_FALSE(s[0].markers);
  EXPECT_EQ(s[1].xs, (std::vector<double>{1, 2}));
  EXPECT_EQ(s[1].ys, (std::vector<double>{0.1, 0.25}));
  EXPECT_TRUE(s[1].markers);
  EXPECT_EQ(xlabel, "epoch");
  o.legend = {"only one"};
  EXPECT_THROW(log_curves(logs, o, nullptr), UserError);
  o.legend.clear();
  o.keys = {"loss_mask"};
  EXPECT_THROW(log_curves(logs, o, nullptr), UserError);
}

TEST(LineChart, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 1, 6), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  const std::vector<double> t = nice_ticks(37.5, 312.5, 8);
  EXPECT_EQ(t.front(), 50);
  EXPECT_EQ(t.back(), 300);
  EXPECT_EQ(t[1] - t[0], 50);
  EXPECT_EQ(format_tick(0.25, 0.05), "0.25");
  EXPECT_EQ(format_tick(1500, 500), "1500");
  EXPECT_EQ(format_tick(-1e-17, 0.1), "0.0");
}

TEST(LineChart, DrawsCurvesAxesAndLegend) {
  ChartOptions o;
  o.title = "losses";
  o.xlabel = "iter";
  const cv::Mat img = draw_line_chart({{"a", {0, 1, 2}, {0, 1, 0.5}, false}, {"b", {0, 2}, {1, 0}, true}}, o);
  ASSERT_EQ(img.cols, 640);
  ASSERT_EQ(img.rows, 480);
  ASSERT_EQ(img.type(), CV_8UC3);
  // The first two tab10 colours (BGR) appear, and dark ink (ticks, text).
  size_t blue = 0, orange = 0, ink = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      blue += p == cv::Vec3b(180, 119, 31);
      orange += p == cv::Vec3b(14, 127, 255);
      ink += p[0] < 80 && p[1] < 80 && p[2] < 80;
    }
  EXPECT_GT(blue, 40u);  // a 1-px anti-aliased line: few pixels have the exact colour
  EXPECT_GT(orange, 200u);
  EXPECT_GT(ink, 500u);
}

}  // namespace
}  // namespace cppdet::visualization
