// Hand-computed cases for each test-pipeline transform (mmdet 2.25 semantics).
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include <filesystem>
#include <fstream>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/data/transforms/formatting.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/data/transforms/multi_scale_flip_aug.h"
#include "cppdet/data/transforms/normalize.h"
#include "cppdet/data/transforms/pad.h"
#include "cppdet/data/transforms/random_flip.h"
#include "cppdet/data/transforms/resize.h"
#include "support/test_support.h"

namespace cppdet::data {
namespace {

config::Value pipeline_from(const std::string& text) {
  return config::parse_config_text("pipeline = " + text + "\n", "pipeline.py").as_dict().at("pipeline");
}

Sample sample_with_image(int h, int w) {
  Sample s;
  s.img = cv::Mat(h, w, CV_8UC3);
  cv::randu(s.img, 0, 256);
  LoadImageFromWebcam().apply(s);
  return s;
}

TEST(Resize, KeepRatioUsesTheSmallerFactorAndRoundsHalfUp) {
  // 640x427 -> min(1333/640, 800/427) = 1.87353..., size (int(1199.06+0.5), int(800+0.5)).
  EXPECT_EQ(scaled_size(640, 427, rescale_factor(640, 427, {1333, 800})), (std::array<int64_t, 2>{1199, 800}));
  EXPECT_EQ(scaled_size(640, 480, rescale_factor(640, 480, {800, 1333})), (std::array<int64_t, 2>{1067, 800}));
  // A long image is limited by the long edge: 2000x500 -> factor 1333/2000.
  EXPECT_EQ(scaled_size(2000, 500, rescale_factor(2000, 500, {1333, 800})), (std::array<int64_t, 2>{1333, 333}));

  Sample s = sample_with_image(427, 640);
  s.scale = std::array<int64_t, 2>{1333, 800};
  Resize({}).apply(s);
  EXPECT_EQ(s.img.cols, 1199);
  EXPECT_EQ(s.img.rows, 800);
  EXPECT_EQ(s.meta.scale_factor[0], static_cast<float>(1199.0 / 640.0));  // 1.873438 (actual, per axis)
  EXPECT_EQ(s.meta.scale_factor[1], static_cast<float>(800.0 / 427.0));   // 1.873536
  EXPECT_EQ(s.meta.img_shape, (std::array<int64_t, 3>{800, 1199, 3}));
  EXPECT_EQ(s.meta.pad_shape, s.meta.img_shape);
  EXPECT_EQ(s.meta.ori_shape, (std::array<int64_t, 3>{427, 640, 3}));
}

TEST(Resize, WithoutKeepRatioTheScaleIsWidthHeight) {
  Sample s = sample_with_image(100, 200);
  Resize::Options o;
  o.keep_ratio = false;
  o.img_scale = {{300, 50}};
  s.gt_bboxes = torch::tensor({{10.f, 10.f, 190.f, 90.f}, {150.f, 0.f, 250.f, 100.f}});
  Resize(o).apply(s);
  EXPECT_EQ(s.img.cols, 300);
  EXPECT_EQ(s.img.rows, 50);
  EXPECT_EQ(s.meta.scale_factor, (std::array<float, 4>{1.5f, 0.5f, 1.5f, 0.5f}));
  // Boxes scale per axis and clip to the new image.
  EXPECT_TRUE(torch::equal(s.gt_bboxes, torch::tensor({{15.f, 5.f, 285.f, 45.f}, {225.f, 0.f, 300.f, 50.f}})));
}

TEST(Resize, ScaleFactorRequestTruncatesTheTargetScale) {
  Sample s = sample_with_image(101, 203);
  s.scale_factor_request = 0.5;
  Resize({}).apply(s);
  // scale = (int(203*0.5), int(101*0.5)) = (101, 50); keep_ratio factor
  // min(101/203, 50/101) = 0.4950495 -> (int(100.99 + 0.5), int(50 + 0.5)).
  EXPECT_EQ(s.img.cols, 100);
  EXPECT_EQ(s.img.rows, 50);
}

TEST(Resize, MissingScaleIsAClearError) {
  Sample s = sample_with_image(10, 10);
  EXPECT_THROW(Resize({}).apply(s), UserError);
}

TEST(RandomFlip, FlipsImageAndBoxesWithoutMinusOne) {
  const torch::Tensor box = torch::tensor({{10.f, 10.f, 30.f, 30.f}});
  EXPECT_TRUE(torch::equal(flip_boxes(box, 100, 80, "horizontal"), torch::tensor({{70.f, 10.f, 90.f, 30.f}})));
  EXPECT_TRUE(torch::equal(flip_boxes(box, 100, 80, "vertical"), torch::tensor({{10.f, 50.f, 30.f, 70.f}})));
  EXPECT_TRUE(torch::equal(flip_boxes(box, 100, 80, "diagonal"), torch::tensor({{70.f, 50.f, 90.f, 70.f}})));

  Sample s = sample_with_image(2, 3);
  const cv::Mat before = s.img.clone();
  s.gt_masks = torch::tensor({{{1, 0, 0}, {0, 0, 0}}}, torch::kUInt8);
  RandomFlip::Options o;
  o.flip_ratio = {1.0};
  RandomFlip(o).apply(s);
  EXPECT_TRUE(s.meta.flip);
  EXPECT_EQ(s.meta.flip_direction, "horizontal");
  EXPECT_EQ(s.img.at<cv::Vec3b>(0, 0), before.at<cv::Vec3b>(0, 2));
  EXPECT_EQ(s.gt_masks[0][0][2].item<int>(), 1);

  // A decided "no flip" (MultiScaleFlipAug) leaves the sample alone.
  Sample t = sample_with_image(2, 3);
  t.flip_decided = true;
  const cv::Mat t_before = t.img.clone();
  RandomFlip(o).apply(t);
  EXPECT_EQ(cv::norm(t.img, t_before, cv::NORM_INF), 0);
}

TEST(Normalize, SubtractsAndDividesInFloat) {
  cv::Mat img(1, 2, CV_8UC3);
  img.at<cv::Vec3b>(0, 0) = {10, 20, 30};     // B, G, R
  img.at<cv::Vec3b>(0, 1) = {255, 0, 128};
  ImageNormConfig cfg{{123.675, 116.28, 103.53}, {58.395, 57.12, 57.375}, true};
  const cv::Mat out = normalize_image(img, cfg);
  ASSERT_EQ(out.type(), CV_32FC3);
  // RGB order after the swap: channel 0 is R.
  const uint8_t rgb[2][3] = {{30, 20, 10}, {128, 0, 255}};
  for (int x = 0; x < 2; ++x)
    for (int c = 0; c < 3; ++c) {
      const float diff = static_cast<float>(rgb[x][c]) - static_cast<float>(cfg.mean[c]);
      const float expected = diff / static_cast<float>(cfg.std[c]);
      EXPECT_EQ(out.at<cv::Vec3f>(0, x)[c], expected) << x << "," << c;
    }
  // Caffe style: no swap, std 1.
  const cv::Mat caffe = normalize_image(img, {{103.53, 116.28, 123.675}, {1, 1, 1}, false});
  EXPECT_EQ(caffe.at<cv::Vec3f>(0, 0)[0], 10.0f - 103.53f);
}

TEST(Pad, PadsBottomRightToMultipleWithZero) {
  Sample s = sample_with_image(33, 64);
  s.img = normalize_image(s.img, {});
  s.gt_masks = torch::ones({1, 33, 64}, torch::kUInt8);
  Pad::Options o;
  o.size_divisor = 32;
  Pad(o).apply(s);
  EXPECT_EQ(s.img.rows, 64);
  EXPECT_EQ(s.img.cols, 64);
  EXPECT_EQ(s.meta.pad_shape, (std::array<int64_t, 3>{64, 64, 3}));
  EXPECT_EQ(s.meta.img_shape, (std::array<int64_t, 3>{33, 64, 3}));
  EXPECT_EQ(s.img.at<cv::Vec3f>(40, 10), cv::Vec3f(0, 0, 0));
  EXPECT_EQ(s.gt_masks.sizes().vec(), (std::vector<int64_t>{1, 64, 64}));
  EXPECT_EQ(s.gt_masks.sum().item<int64_t>(), 33 * 64);

  Pad::Options fixed;
  fixed.size = std::array<int64_t, 2>{10, 10};
  EXPECT_THROW(Pad(fixed).apply(s), UserError);  // smaller than the image
  EXPECT_THROW(Pad(Pad::Options{}), ConfigError);  // neither size nor size_divisor
}

// Polygon masks and the segmentation map follow the image through Resize (polygons by the
// size ratios, the map by nearest neighbour), RandomFlip (no -1) and Pad (border 255).
TEST(PolygonsAndSegMap, FollowResizeFlipAndPad) {
  Sample s = sample_with_image(20, 40);
  s.gt_polygons = {{{4, 2, 36, 2, 36, 18}}};
  s.gt_semantic_seg = cv::Mat(20, 40, CV_8UC1, cv::Scalar(0));
  s.gt_semantic_seg(cv::Rect(0, 0, 10, 20)).setTo(7);  // the left quarter is class 7
  Resize::Options ro;
  ro.img_scale = {{60, 15}};  // keep_ratio: factor 0.75 -> 30 x 15
  Resize(ro).apply(s);
  EXPECT_EQ(s.gt_polygons, (std::vector<std::vector<std::vector<double>>>{{{3, 1.5, 27, 1.5, 27, 13.5}}}));
  ASSERT_EQ(s.gt_semantic_seg.size(), cv::Size(30, 15));
  EXPECT_EQ(cv::countNonZero(s.gt_semantic_seg), 8 * 15);  // nearest: columns 0..7 (x*4/3 < 10)

  RandomFlip::Options fo;
  fo.flip_ratio = {1.0};
  fo.direction = {"diagonal"};
  RandomFlip(fo).apply(s);
  EXPECT_EQ(s.gt_polygons, (std::vector<std::vector<std::vector<double>>>{{{27, 13.5, 3, 13.5, 3, 1.5}}}));
  EXPECT_EQ(s.gt_semantic_seg.at<uint8_t>(0, 29), 7);
  EXPECT_EQ(s.gt_semantic_seg.at<uint8_t>(0, 0), 0);

  Pad::Options po;
  po.size_divisor = 8;
  Pad(po).apply(s);
  ASSERT_EQ(s.gt_semantic_seg.size(), cv::Size(32, 16));
  EXPECT_EQ(s.gt_semantic_seg.at<uint8_t>(15, 31), 255);
  EXPECT_EQ(s.gt_semantic_seg.at<uint8_t>(14, 29), 7);
  // pad_val=dict(seg=...) sets the map's border.
  const auto pad = build_compose(pipeline_from("[dict(type='Pad', size=(20, 40), pad_val=dict(img=0, seg=3))]"), "p");
  const Sample padded = (*pad)(std::move(s)).at(0);
  EXPECT_EQ(padded.gt_semantic_seg.at<uint8_t>(19, 39), 3);
}

TEST(Formatting, ImageToTensorIsChwAndCollectChecksKeys) {
  Sample s = sample_with_image(2, 3);
  const cv::Vec3b px = s.img.at<cv::Vec3b>(1, 2);
  ImageToTensor().apply(s);
  EXPECT_EQ(s.inputs.sizes().vec(), (std::vector<int64_t>{3, 2, 3}));
  EXPECT_EQ(s.inputs.scalar_type(), torch::kUInt8);
  EXPECT_EQ(s.inputs[2][1][2].item<int>(), px[2]);

  Sample b = sample_with_image(2, 3);
  b.gt_labels = torch::tensor({1}, torch::kLong);
  DefaultFormatBundle().apply(b);
  EXPECT_EQ(b.inputs.scalar_type(), torch::kFloat32);
  EXPECT_EQ(b.meta.pad_shape, (std::array<int64_t, 3>{2, 3, 3}));
  Collect({"img"}).apply(b);
  EXPECT_FALSE(b.gt_labels.defined());
  EXPECT_THROW(Collect({"image"}), ConfigError);
}

TEST(MultiScaleFlipAug, ProducesScaleMajorThenFlipSamples) {
  const config::Value p = pipeline_from(
      "[dict(type='MultiScaleFlipAug', img_scale=[(100, 50), (200, 100)], flip=True,"
      " flip_direction=['horizontal', 'vertical'],"
      " transforms=[dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),"
      " dict(type='Normalize', mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False),"
      " dict(type='Pad', size_divisor=32), dict(type='ImageToTensor', keys=['img']),"
      " dict(type='Collect', keys=['img'])])]");
  auto compose = build_compose(p, "pipeline");
  std::vector<Sample> out = (*compose)(sample_with_image(40, 40));
  ASSERT_EQ(out.size(), 6u);
  const char* dirs[] = {"", "horizontal", "vertical"};
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].meta.img_shape[0], i < 3 ? 50 : 100);
    EXPECT_EQ(out[i].meta.flip, i % 3 != 0);
    EXPECT_EQ(out[i].meta.flip_direction, dirs[i % 3]);
    EXPECT_EQ(out[i].inputs.size(1), i < 3 ? 64 : 128);
  }
}

TEST(Compose, ConfigErrorsNameTheKeyPath) {
  try {
    build_compose(pipeline_from("[dict(type='LoadImageFromFile'), dict(type='Resise')]"), "data.test.pipeline");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("data.test.pipeline[1].type: unknown transform 'Resise'"), std::string::npos)
        << e.what();
  }
  try {
    build_compose(pipeline_from("[dict(type='Normalize', mean=[1, 2, 3], std=[1, 1, 1], to_rgb=True, bogus=1)]"), "p");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos) << e.what();
  }
}

TEST(LoadImageFromFile, MissingOrCorruptFilesNameTheFile) {
  const std::string dir = testing::make_temp_dir("load");
  Sample missing;
  missing.img_file = dir + "/nope.jpg";
  try {
    LoadImageFromFile({}).apply(missing);
    FAIL();
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/nope.jpg"), std::string::npos);
  }
  std::ofstream(dir + "/bad.png") << "not a png";
  Sample bad;
  bad.img_prefix = dir;
  bad.img_file = "bad.png";
  try {
    LoadImageFromFile({}).apply(bad);
    FAIL();
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.png"), std::string::npos);
  }
}

}  // namespace
}  // namespace cppdet::data
