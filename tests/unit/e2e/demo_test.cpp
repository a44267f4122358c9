// `cppdet demo image|video` and the one-line errors of demo / infer.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using testing::shell_quote;

std::string case_file(const std::string& name) { return testing::fixture("oracle_cases/mask_tiny_r50/" + name); }
std::string model_args() { return shell_quote(case_file("config.py")) + " " + shell_quote(case_file("checkpoint_zip.pth")); }

// Exactly one line of output, starting with "cppdet: error:" and containing `what`.
void expect_one_line_error(const testing::CommandResult& r, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.rfind("cppdet: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
}

TEST(DemoImage, WritesTheDrawnImage) {
  const std::string out = testing::make_temp_dir("demo") + "/sub/dir/result.jpg";
  const auto r = testing::run_cppdet("demo image " + shell_quote(case_file("coffee.png")) + " " + model_args() +
                                     " --score-thr 0.2 --out-file " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat drawn = cv::imread(out);
  const cv::Mat original = cv::imread(case_file("coffee.png"));
  ASSERT_EQ(drawn.size(), original.size());
  // Something was drawn (the case has detections above 0.2), most of the image is untouched.
  cv::Mat diff;
  cv::absdiff(drawn, original, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  const double changed = cv::countNonZero(diff > 40) / static_cast<double>(diff.total());
  EXPECT_GT(changed, 0.001);
  EXPECT_LT(changed, 0.5);
  // The printed detections: "class score x1 y1 x2 y2".
  EXPECT_NE(r.output.find(" 0.3"), std::string::npos) << r.output;
}

TEST(DemoImage, ScaleDrawsOnALargerImage) {
  const std::string out = testing::make_temp_dir("demo_scale") + "/result.png";
  const auto r = testing::run_cppdet("demo image " + shell_quote(case_file("coffee.png")) + " " + model_args() +
                                     " --scale 2 --out-file " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat original = cv::imread(case_file("coffee.png"));
  EXPECT_EQ(cv::imread(out).size(), cv::Size(original.cols * 2, original.rows * 2));
  EXPECT_NE(testing::run_cppdet("demo image " + shell_quote(case_file("coffee.png")) + " " + model_args() +
                                " --scale 0 --out-file " + shell_quote(out)).exit_code, 0);
}

TEST(InferTruncatedJpeg, WarnsNamingTheFileAndKeepsTheDetections) {
  // The first 3 KB of demo.jpg: libjpeg decodes it (the rest filled in) as mmcv would.
  const std::string dir = testing::make_temp_dir("truncated");
  const std::string image = dir + "/cut.jpg", out = dir + "/results.json";
  {
    const std::string whole = testing::read_text(testing::source_dir() + "/demo/demo.jpg");
    std::ofstream(image, std::ios::binary).write(whole.data(), 3072);
  }
  const auto r = testing::run_cppdet("infer " + model_args() + " " + shell_quote(image) + " --out " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string warning = "cppdet: warning: " + image + ": premature end of JPEG data";
  ASSERT_NE(r.output.find(warning), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(warning), r.output.rfind(warning)) << "warned more than once: " << r.output;
  EXPECT_TRUE(fs::exists(out));
  // A complete JPEG gives no such warning.
  const auto whole = testing::run_cppdet("infer " + model_args() + " " +
                                         shell_quote(testing::source_dir() + "/demo/demo.jpg") + " --out " +
                                         shell_quote(dir + "/whole.json"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(whole.output.find("premature end"), std::string::npos) << whole.output;
}

TEST(DemoVideo, KeepsFrameCountSizeAndFps) {
  const std::string dir = testing::make_temp_dir("video");
  const std::string in = dir + "/in.avi", out = dir + "/out/annotated.mp4";
  const cv::Mat frame = cv::imread(case_file("rocket_crop.png"));
  ASSERT_FALSE(frame.empty());
  {
    cv::VideoWriter w(in, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 12.0, frame.size());
    ASSERT_TRUE(w.isOpened());
    for (int i = 0; i < 4; ++i) {
      cv::Mat f = frame.clone();
      cv::circle(f, cv::Point(40 + 30 * i, 60), 20, cv::Scalar(0, 255, 0), cv::FILLED);
      w.write(f);
    }
  }
  const auto r = testing::run_cppdet("demo video " + shell_quote(in) + " " + model_args() + " --out " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4/4"), std::string::npos) << r.output;  // the progress bar's last line
  cv::VideoCapture result(out);
  ASSERT_TRUE(result.isOpened());
  EXPECT_EQ(result.get(cv::CAP_PROP_FRAME_WIDTH), frame.cols);
  EXPECT_EQ(result.get(cv::CAP_PROP_FRAME_HEIGHT), frame.rows);
  EXPECT_NEAR(result.get(cv::CAP_PROP_FPS), 12.0, 1e-3);
  int frames = 0;
  for (cv::Mat f; result.read(f) && !f.empty();) ++frames;
  EXPECT_EQ(frames, 4);
}

TEST(DemoErrors, MissingImage) {
  expect_one_line_error(testing::run_cppdet("demo image /nonexistent/img.jpg " + model_args()),
                        "image file not found: /nonexistent/img.jpg");
}

TEST(DemoErrors, UnreadableVideo) {
  const std::string bad = testing::make_temp_dir("badvideo") + "/broken.mp4";
  std::ofstream(bad) << "this is not a video";
  const auto r = testing::run_cppdet("demo video " + shell_quote(bad) + " " + model_args() + " --out /tmp/never.mp4");
  expect_one_line_error(r, "broken.mp4");
  expect_one_line_error(testing::run_cppdet("demo video /nonexistent/v.mp4 " + model_args() + " --out x.mp4"),
                        "video file not found: /nonexistent/v.mp4");
}

TEST(DemoErrors, CudaDeviceThatDoesNotExist) {
  const auto r = testing::run_cppdet("demo image " + shell_quote(case_file("coffee.png")) + " " + model_args() +
                                     " --device cuda:99");
  expect_one_line_error(r, "cuda:99");
}

TEST(InferErrors, CudaOnACpuBuildIsAClearError) {
  const std::string out = testing::make_temp_dir("cuda") + "/r.json";
  const auto r = testing::run_cppdet("infer " + model_args() + " " + shell_quote(case_file("coffee.png")) +
                                     " --device cuda:0 --out " + shell_quote(out));
  if (r.exit_code == 0) GTEST_SKIP() << "this build has a usable GPU";
  expect_one_line_error(r, "cuda:0");
}

TEST(InferErrors, CheckpointThatDoesNotFitTheConfig) {
  const std::string other = testing::fixture("oracle_cases/faster_tiny_r18_caffe/checkpoint_zip.pth");
  const std::string out = testing::make_temp_dir("misfit") + "/r.json";
  const auto r = testing::run_cppdet("infer " + shell_quote(case_file("config.py")) + " " + shell_quote(other) + " " +
                                     shell_quote(case_file("coffee.png")) + " --out " + shell_quote(out));
  expect_one_line_error(r, "does not fit");
  EXPECT_FALSE(fs::exists(out));
}

TEST(InferErrors, MissingImage) {
  const std::string out = testing::make_temp_dir("missing") + "/r.json";
  expect_one_line_error(testing::run_cppdet("infer " + model_args() + " /nonexistent/a.png --out " + shell_quote(out)),
                        "image file not found: /nonexistent/a.png");
}

}  // namespace
}  // namespace cppdet
