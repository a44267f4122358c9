// `cppdet browse-dataset` on a generated shapes dataset (128x72 images; the quick-start train
// pipeline resizes them to 256x144 and pads to 256x160): one drawn image per training image,
// of the post-pipeline size, with every ground-truth box outline drawn and the rest of the
// picture untouched; RepeatDataset wrappers unwrapped; clear errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace cppdet::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kSrcW = 128, kSrcH = 72;
constexpr int kOutW = 256, kResizedH = 144, kOutH = 160;  // scale 2, height padded to a multiple of 32

struct ShapesData {
  std::string root;    // holds data/shapes
  std::string config;  // the quick-start config
};

const ShapesData& shapes_data() {
  static const ShapesData data = [] {
    ShapesData d;
    d.root = make_temp_dir("browse-data");
    const CommandResult r = run_cppdet("data synth-shapes " + shell_quote(d.root + "/data/shapes") +
                                       " --train 3 --val 1 --seed 1 --size " + std::to_string(kSrcW) + "x" +
                                       std::to_string(kSrcH));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    d.config = source_dir() + "/configs/quickstart/mask_rcnn_r18_fpn_shapes.py";
    return d;
  }();
  return data;
}

// The train pipeline's Resize scale, pinned so that the expected sizes do not follow edits of
// the quick-start config.
std::string pinned_scale() { return " --cfg-options " + shell_quote("data.train.pipeline.2.img_scale=(256,256)"); }

CommandResult browse(const std::string& args) {
  return run_command("cd " + shell_quote(shapes_data().root) + " && env -u DISPLAY -u WAYLAND_DISPLAY " +
                     shell_quote(cppdet_exe()) + " browse-dataset " + args);
}

json train_annotations() {
  std::ifstream in(shapes_data().root + "/data/shapes/annotations/instances_train.json");
  return json::parse(in);
}

// Files of `dir` (names only).
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(BrowseDataset, DrawsEveryTrainingImageAtItsPipelineSize) {
  const std::string out = make_temp_dir("browse-out");
  const CommandResult r = browse(shell_quote(shapes_data().config) + " --output-dir " + shell_quote(out) + pinned_scale());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no display"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3/3"), std::string::npos) << r.output;  // the progress bar
  const json ann = train_annotations();
  std::vector<std::string> expected;
  for (const json& img : ann["images"]) expected.push_back(img["file_name"].get<std::string>());
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(listing(out), expected);
  for (const std::string& name : expected) {
    const cv::Mat img = cv::imread(out + "/" + name, cv::IMREAD_COLOR);
    ASSERT_FALSE(img.empty()) << name;
    EXPECT_EQ(img.cols, kOutW) << name;
    EXPECT_EQ(img.rows, kOutH) << name;
  }
}

// Without RandomFlip the drawn image is the source resized and padded, plus the drawing: every
// box's outline differs from that picture, and pixels well away from every box are unchanged.
TEST(BrowseDataset, GroundTruthIsDrawnAndNothingElse) {
  const std::string out = make_temp_dir("browse-noflip");
  const CommandResult r = browse(shell_quote(shapes_data().config) + " --not-show --output-dir " + shell_quote(out) +
                                 " --skip-type DefaultFormatBundle Normalize Collect RandomFlip" + pinned_scale());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json ann = train_annotations();
  const double sx = static_cast<double>(kOutW) / kSrcW, sy = static_cast<double>(kResizedH) / kSrcH;
  int boxes_checked = 0;
  for (const json& img_info : ann["images"]) {
    const std::string name = img_info["file_name"].get<std::string>();
    SCOPED_TRACE(name);
    const cv::Mat drawn = cv::imread(out + "/" + name, cv::IMREAD_COLOR);
    const cv::Mat src = cv::imread(shapes_data().root + "/data/shapes/train/" + name, cv::IMREAD_COLOR);
    ASSERT_FALSE(drawn.empty());
    ASSERT_FALSE(src.empty());
    cv::Mat resized, plain = cv::Mat::zeros(kOutH, kOutW, CV_8UC3);
    cv::resize(src, resized, cv::Size(kOutW, kResizedH), 0, 0, cv::INTER_LINEAR);
    resized.copyTo(plain(cv::Rect(0, 0, kOutW, kResizedH)));
    cv::Mat diff;
    cv::absdiff(drawn, plain, diff);
    cv::Mat changed;  // per pixel: sum of channel differences
    cv::transform(diff, changed, cv::Matx13f(1, 1, 1));

    cv::Mat near_boxes = cv::Mat::zeros(kOutH, kOutW, CV_8UC1);
    for (const json& a : ann["annotations"]) {
      if (a["image_id"] != img_info["id"]) continue;
      const auto b = a["bbox"].get<std::vector<double>>();  // x, y, w, h
      const cv::Point p1(cvRound(b[0] * sx), cvRound(b[1] * sy)), p2(cvRound((b[0] + b[2]) * sx), cvRound((b[1] + b[3]) * sy));
      cv::rectangle(near_boxes, cv::Rect(p1, p2) + cv::Size(1, 1), cv::Scalar(255), cv::FILLED);
      cv::rectangle(near_boxes, cv::Rect(p1.x, p1.y, 80, 24), cv::Scalar(255), cv::FILLED);  // the label may overhang
      // The outline: the rectangle's perimeter pixels.
      int total = 0, drawn_px = 0;
      for (int x = p1.x; x <= p2.x; ++x)
        for (int y : {p1.y, p2.y}) {
          if (x < 0 || y < 0 || x >= kOutW || y >= kOutH) continue;
          ++total;
          drawn_px += changed.at<uchar>(y, x) > 30;
        }
      for (int y = p1.y; y <= p2.y; ++y)
        for (int x : {p1.x, p2.x}) {
          if (x < 0 || y < 0 || x >= kOutW || y >= kOutH) continue;
          ++total;
          drawn_px += changed.at<uchar>(y, x) > 30;
        }
      ASSERT_GT(total, 0);
      EXPECT_GE(drawn_px, total * 8 / 10) << "box " << a["id"] << ": " << drawn_px << " of " << total << " outline pixels";
      ++boxes_checked;
    }
    // Away from the boxes and labels (outline thickness 2, anti-aliased contours):
    // the resized source as it is.
    cv::dilate(near_boxes, near_boxes, cv::Mat::ones(9, 9, CV_8UC1));
    int far = 0, unchanged = 0;
    for (int y = 0; y < kOutH; ++y)
      for (int x = 0; x < kOutW; ++x) {
        if (near_boxes.at<uchar>(y, x)) continue;
        ++far;
        unchanged += changed.at<uchar>(y, x) <= 6;
      }
    EXPECT_GE(unchanged, far * 99 / 100) << unchanged << " of " << far;
  }
  EXPECT_GT(boxes_checked, 0);
}

TEST(BrowseDataset, UnwrapsRepeatDataset) {
  const std::string dir = make_temp_dir("browse-repeat");
  std::ofstream(dir + "/repeat.py") << "_base_ = " << json(shapes_data().config).dump() << "\n"
                                    << R"(train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', img_scale=(128, 128), keep_ratio=True),
    dict(type='Normalize', mean=[0, 0, 0], std=[1, 1, 1], to_rgb=True),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels', 'gt_masks']),
]
data = dict(train=dict(_delete_=True, type='RepeatDataset', times=2, dataset=dict(
    type='CocoDataset', classes=('circle', 'triangle', 'rectangle', 'star'),
    ann_file='data/shapes/annotations/instances_train.json', img_prefix='data/shapes/train/',
    pipeline=train_pipeline)))
)";
  const std::string out = make_temp_dir("browse-repeat-out");
  const CommandResult r = browse(shell_quote(dir + "/repeat.py") + " --not-show --output-dir " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("6/6"), std::string::npos) << r.output;  // mmdet iterates the wrapper: 2 x 3
  ASSERT_EQ(listing(out).size(), 3u);
  const cv::Mat img = cv::imread(out + "/" + listing(out).front(), cv::IMREAD_COLOR);
  EXPECT_EQ(img.cols, 128);
  EXPECT_EQ(img.rows, 96);  // scale 1: 128 x 72, padded to 96
}

// A train pipeline with AutoAugment (one policy per image, drawn from the image's seed).
TEST(BrowseDataset, DrawsAutoAugmentedSamples) {
  const std::string dir = make_temp_dir("browse-autoaug");
  std::ofstream(dir + "/autoaug.py") << "_base_ = " << json(shapes_data().config).dump() << "\n"
                                     << R"(train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='AutoAugment', policies=[
        [dict(type='Rotate', level=5, prob=1.0, img_fill_val=(104, 116, 124))],
        [dict(type='Translate', level=1, prob=1.0), dict(type='ColorTransform', level=8, prob=1.0)],
        [dict(type='Shear', level=4, prob=1.0, direction='vertical'), dict(type='EqualizeTransform', prob=1.0)]]),
    dict(type='Resize', img_scale=(128, 128), keep_ratio=True),
    dict(type='Normalize', mean=[0, 0, 0], std=[1, 1, 1], to_rgb=True),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels', 'gt_masks']),
]
data = dict(train=dict(pipeline=train_pipeline))
)";
  const std::string out = make_temp_dir("browse-autoaug-out");
  const CommandResult r = browse(shell_quote(dir + "/autoaug.py") + " --not-show --output-dir " + shell_quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3/3"), std::string::npos) << r.output;
  ASSERT_EQ(listing(out).size(), 3u);
  for (const std::string& name : listing(out)) {
    const cv::Mat img = cv::imread(out + "/" + name, cv::IMREAD_COLOR);
    EXPECT_EQ(img.cols, 128) << name;
    EXPECT_EQ(img.rows, 96) << name;
  }
}

TEST(BrowseDataset, ErrorsAreClear) {
  // No display and nowhere to write.
  CommandResult r = browse(shell_quote(shapes_data().config));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--output-dir"), std::string::npos) << r.output;
  // Keeping Normalize leaves a float image that cannot be drawn.
  const std::string out = make_temp_dir("browse-err");
  r = browse(shell_quote(shapes_data().config) + " --not-show --output-dir " + shell_quote(out) +
             " --skip-type DefaultFormatBundle Collect");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--skip-type"), std::string::npos) << r.output;
  // A missing annotation file is named.
  r = browse(shell_quote(shapes_data().config) + " --not-show --output-dir " + shell_quote(out) +
             " --cfg-options data.train.ann_file=nowhere.json");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nowhere.json"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cppdet::testing
