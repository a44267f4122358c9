// AutoAugment and its steps against MMDetection 2.25's outputs (tests/fixtures/autoaugment, a
// copy of ../shared/oracle/transforms): every case's image bytes, boxes, labels, bitmap and
// polygon masks and segmentation map; then the policy choice, the prob / sign draws and the
// config errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>

#include "cppdet/config/config_file.h"
#include "cppdet/config/data_readers.h"
#include "cppdet/core/error.h"
#include "cppdet/data/transforms/auto_augment.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/data/transforms/geometric_augment.h"
#include "cppdet/data/transforms/photometric_augment.h"
#include "cppdet/data/transforms/random.h"
#include "cppdet/evaluation/mask_rle.h"
#include "support/test_support.h"

namespace cppdet::data::auto_augment_test {
namespace {

using nlohmann::json;

std::string case_dir() { return testing::fixture("autoaugment"); }

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return json::parse(in);
}

// [n, H, W] uint8 bitmaps from the oracle's column-major COCO RLEs.
torch::Tensor masks_from_rle(const json& bitmap) {
  const int64_t h = bitmap["height"], w = bitmap["width"];
  std::vector<torch::Tensor> masks;
  for (const json& r : bitmap["rle"]) {
    const evaluation::Rle rle{static_cast<uint32_t>(h), static_cast<uint32_t>(w), r["counts"].get<std::vector<uint32_t>>()};
    std::vector<uint8_t> cm = evaluation::rle_decode(rle);
    masks.push_back(torch::from_blob(cm.data(), {w, h}, torch::kUInt8).t().clone());
  }
  return masks.empty() ? torch::zeros({0, h, w}, torch::kUInt8) : torch::stack(masks);
}

// The oracle's input: LoadImageFromFile + LoadAnnotations(with_bbox, with_label, with_mask,
// with_seg), with both the bitmaps and the polygons of every object.
Sample oracle_input() {
  const json in = read_json(case_dir() + "/input.json");
  Sample s;
  s.img_file = "input.png";
  s.img = cv::imread(case_dir() + "/input.png", cv::IMREAD_COLOR);
  s.gt_semantic_seg = cv::imread(case_dir() + "/input_seg.png", cv::IMREAD_UNCHANGED);
  const auto boxes = in["gt_bboxes"].get<std::vector<std::vector<float>>>();
  s.gt_bboxes = torch::empty({static_cast<int64_t>(boxes.size()), 4}, torch::kFloat32);
  for (size_t i = 0; i < boxes.size(); ++i)
    for (int k = 0; k < 4; ++k) s.gt_bboxes[static_cast<int64_t>(i)][k] = boxes[i][static_cast<size_t>(k)];
  s.gt_labels = torch::tensor(in["gt_labels"].get<std::vector<int64_t>>(), torch::kInt64);
  s.gt_masks = masks_from_rle(in["gt_masks_bitmap"]);
  s.gt_polygons = in["gt_masks_polygon"]["polygons"].get<std::vector<std::vector<std::vector<double>>>>();
  return s;
}

std::unique_ptr<Transform> build_from_json(const json& cfg) {
  return transform_registry().build(config::read_json_config(cfg.dump(), "cases.json", false), "case");
}

// One oracle case: the transform built from its config dict, applied to the input.
void check_case(const std::string& name) {
  const std::string dir = case_dir() + "/" + name;
  const json expected = read_json(dir + "/output.json");
  const std::unique_ptr<Transform> transform = build_from_json(expected["config"]);
  Sample input = oracle_input();
  const cv::Mat input_img = input.img.clone();
  std::vector<Sample> out = (*transform)(std::move(input));
  ASSERT_EQ(out.size(), 1u);
  const Sample& s = out[0];

  // Image: every byte.
  const cv::Mat want_img = cv::imread(dir + "/output.png", cv::IMREAD_COLOR);
  ASSERT_EQ(s.img.type(), CV_8UC3);
  ASSERT_EQ(s.img.size(), want_img.size());
  EXPECT_EQ(cv::norm(s.img, want_img, cv::NORM_INF), 0) << cv::countNonZero(s.img.reshape(1) != want_img.reshape(1))
                                                        << " values differ";
  EXPECT_NE(cv::norm(s.img, input_img, cv::NORM_INF), 0);  // the step did run

  // Boxes within 1e-3 px, labels (hence the kept objects) exactly.
  const auto want_boxes = expected["gt_bboxes"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(s.gt_bboxes.size(0), static_cast<int64_t>(want_boxes.size()));
  EXPECT_EQ(s.gt_bboxes.scalar_type(), torch::kFloat32);
  for (size_t i = 0; i < want_boxes.size(); ++i)
    for (int k = 0; k < 4; ++k)
      EXPECT_NEAR(s.gt_bboxes[static_cast<int64_t>(i)][k].item<double>(), want_boxes[i][static_cast<size_t>(k)], 1e-3)
          << "box " << i << " coord " << k;
  const auto labels = expected["gt_labels"].get<std::vector<int64_t>>();
  EXPECT_TRUE(torch::equal(s.gt_labels, torch::tensor(labels, torch::kInt64))) << s.gt_labels;

  // Bitmaps: equal.
  const torch::Tensor want_masks = masks_from_rle(expected["gt_masks_bitmap"]);
  ASSERT_EQ(s.gt_masks.sizes(), want_masks.sizes());
  for (int64_t i = 0; i < want_masks.size(0); ++i)
    EXPECT_TRUE(torch::equal(s.gt_masks[i], want_masks[i]))
        << "mask " << i << ": " << s.gt_masks[i].ne(want_masks[i]).sum().item<int64_t>() << " pixels differ";

  // Polygons: float64 within 1e-6.
  const auto want_polys = expected["gt_masks_polygon"]["polygons"].get<std::vector<std::vector<std::vector<double>>>>();
  ASSERT_EQ(s.gt_polygons.size(), want_polys.size());
  for (size_t i = 0; i < want_polys.size(); ++i) {
    ASSERT_EQ(s.gt_polygons[i].size(), want_polys[i].size()) << "object " << i;
    for (size_t r = 0; r < want_polys[i].size(); ++r) {
      ASSERT_EQ(s.gt_polygons[i][r].size(), want_polys[i][r].size());
      for (size_t k = 0; k < want_polys[i][r].size(); ++k)
        EXPECT_NEAR(s.gt_polygons[i][r][k], want_polys[i][r][k], 1e-6) << "object " << i << " ring " << r << " value " << k;
    }
  }

  // Segmentation map: every byte.
  const cv::Mat want_seg = cv::imread(dir + "/output_seg.png", cv::IMREAD_UNCHANGED);
  ASSERT_EQ(s.gt_semantic_seg.type(), CV_8UC1);
  ASSERT_EQ(s.gt_semantic_seg.size(), want_seg.size());
  EXPECT_EQ(cv::norm(s.gt_semantic_seg, want_seg, cv::NORM_INF), 0)
      << cv::countNonZero(s.gt_semantic_seg != want_seg) << " pixels differ";
}

// Every case in one test (one process: the suite's cost is the startup, not the cases).
TEST(AutoAugmentOracle, EveryCaseMatchesMMDetection) {
  const json index = read_json(case_dir() + "/cases.json");
  ASSERT_EQ(index["cases"].size(), 27u);
  for (const json& c : index["cases"]) {
    const std::string name = c["case"];
    SCOPED_TRACE(name);
    check_case(name);
  }
}

config::Value pipeline_from(const std::string& text) {
  return config::parse_config_text("pipeline = " + text + "\n", "pipeline.py").as_dict().at("pipeline");
}

// A 4x4 grey image whose brightness tells which policy ran: BrightnessTransform level L maps
// 100 to trunc(100 * (L / 10 * 1.8 + 0.1)).
Sample grey_sample() {
  Sample s;
  s.img = cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(100));
  return s;
}

TEST(AutoAugment, PolicyChoiceAndStepDrawsComeFromTheSeededSource) {
  const auto pipeline = build_compose(pipeline_from(R"([dict(type='AutoAugment', policies=[
      [dict(type='BrightnessTransform', level=0, prob=1.0)],
      [dict(type='BrightnessTransform', level=5, prob=1.0)],
      [dict(type='BrightnessTransform', level=10, prob=1.0)]])])"),
                                      "pipeline");
  const auto run = [&](uint64_t seed) {
    seed_transform_rng(seed);
    std::map<int, int> counts;  // pixel value -> samples
    std::vector<int> sequence;
    for (int i = 0; i < 600; ++i) {
      const int v = (*pipeline)(grey_sample()).at(0).img.at<cv::Vec3b>(0, 0)[0];
      ++counts[v];
      sequence.push_back(v);
    }
    return std::make_pair(counts, sequence);
  };
  const auto [counts, sequence] = run(7);
  ASSERT_EQ(counts.size(), 3u);  // 10 (factor 0.1), 100 (1.0), 190 (1.9)
  for (int v : {10, 100, 190}) {
    // Binomial(600, 1/3): mean 200, sd 11.5; 140..260 is more than 5 sd.
    EXPECT_GT(counts.at(v), 140) << v;
    EXPECT_LT(counts.at(v), 260) << v;
  }
  EXPECT_EQ(run(7).second, sequence);  // the same seed draws the same policies
  EXPECT_NE(run(8).second, sequence);

  // Within the policy each step draws its prob, then its sign: Translate by 2 px along x of a
  // one-box image is skipped (box unmoved), +2 or -2.
  const auto step = build_compose(pipeline_from(R"([dict(type='AutoAugment', policies=[[
      dict(type='Translate', level=1, max_translate_offset=20, prob=0.5, random_negative_prob=0.25)]])])"),
                                  "pipeline");
  seed_transform_rng(3);
  std::map<float, int> shifts;  // x1 after the step -> samples
  for (int i = 0; i < 800; ++i) {
    Sample s = grey_sample();
    s.img = cv::Mat(10, 10, CV_8UC3, cv::Scalar::all(0));
    s.gt_bboxes = torch::tensor({{4.f, 4.f, 6.f, 6.f}});
    s.gt_labels = torch::tensor({1}, torch::kInt64);
    ++shifts[(*step)(std::move(s)).at(0).gt_bboxes[0][0].item<float>()];
  }
  ASSERT_EQ(shifts.size(), 3u);
  // P(skip) = 0.5, P(+2) = 0.375, P(-2) = 0.125 (sd 14, 14, 9 of 800).
  EXPECT_NEAR(shifts.at(4.f), 400, 70);
  EXPECT_NEAR(shifts.at(6.f), 300, 70);
  EXPECT_NEAR(shifts.at(2.f), 100, 45);
}

// The config error that building `text` (a pipeline list) raises.
std::string build_error(const std::string& text) {
  return testing::user_error_of([&] { build_compose(pipeline_from(text), "data.train.pipeline"); });
}

TEST(AutoAugment, ConfigErrorsNameTheKeyPath) {
  EXPECT_NE(build_error(R"([dict(type='LoadImageFromFile'), dict(type='AutoAugment', policies=[
      [dict(type='Rotate', level=3)], [dict(type='Translate', level=2), dict(type='Sharpness', level=8)]])])")
                .find("data.train.pipeline[1].policies[1][1].type: unknown transform 'Sharpness'"),
            std::string::npos);
  std::string e = build_error("[dict(type='AutoAugment', policies=[[dict(type='Rotate', level=3, angle=9)]])]");
  EXPECT_NE(e.find("data.train.pipeline[0].policies[0][0]"), std::string::npos) << e;
  EXPECT_NE(e.find("angle"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment', policies=[[dict(type='Shear', level=11)]])]");
  EXPECT_NE(e.find("data.train.pipeline[0].policies[0][0].level: must be in [0, 10], got 11"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment', policies=[[dict(type='Translate', level=1, direction='diagonal')]])]");
  EXPECT_NE(e.find("policies[0][0].direction: expected 'horizontal' or 'vertical'"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment', policies=[[dict(type='Rotate', level=1, img_fill_val=(1, 2))]])]");
  EXPECT_NE(e.find("policies[0][0].img_fill_val: expected a number or 3 numbers"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment', policies=[])]");
  EXPECT_NE(e.find("data.train.pipeline[0].policies: expected a non-empty list"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment', policies=[[dict(type='Rotate', level=1)], []])]");
  EXPECT_NE(e.find("data.train.pipeline[0].policies[1]: expected a non-empty list"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment', policies=[[dict(type='Rotate', level=1)]], policy=1)]");
  EXPECT_NE(e.find("policy"), std::string::npos) << e;
  e = build_error("[dict(type='AutoAugment')]");
  EXPECT_NE(e.find("data.train.pipeline[0].policies"), std::string::npos) << e;
}

TEST(AutoAugment, DefaultsEmptyAnnotationsAndErrors) {
  EXPECT_DOUBLE_EQ(level_to_value(3.3, 250.0), 82.5);  // Translate truncates it to 82
  EXPECT_EQ(enhance_level_to_value(2), 0.4600000000000001);
  EXPECT_EQ(enhance_level_to_value(8), 1.5400000000000003);
  // A 0-probability step never runs.
  const auto never = build_compose(pipeline_from("[dict(type='Rotate', level=10, prob=0.0)]"), "p");
  Sample r = grey_sample();
  cv::randu(r.img, 0, 255);
  const cv::Mat before = r.img.clone();
  const cv::Mat after = (*never)(std::move(r)).at(0).img;
  EXPECT_EQ(cv::norm(before, after, cv::NORM_INF), 0);

  // No objects: the image still moves. Ignore boxes are moved and filtered on their own.
  const auto step = build_compose(pipeline_from("[dict(type='Translate', level=2, prob=1.0, random_negative_prob=0.0, "
                                                "max_translate_offset=50)]"),
                                  "p");
  Sample s;
  s.img = cv::Mat(20, 30, CV_8UC3, cv::Scalar::all(9));
  s.gt_bboxes = torch::zeros({0, 4});
  s.gt_labels = torch::zeros({0}, torch::kInt64);
  s.gt_masks = torch::zeros({0, 20, 30}, torch::kUInt8);
  s.gt_bboxes_ignore = torch::tensor({{1.f, 1.f, 5.f, 5.f}, {25.f, 1.f, 29.f, 5.f}});
  const Sample out = (*step)(std::move(s)).at(0);
  EXPECT_EQ(out.gt_bboxes.size(0), 0);
  EXPECT_EQ(out.gt_masks.size(0), 0);
  EXPECT_EQ(out.img.at<cv::Vec3b>(0, 0), cv::Vec3b(128, 128, 128));  // shifted 10 px right, default fill
  EXPECT_EQ(out.img.at<cv::Vec3b>(0, 10), cv::Vec3b(9, 9, 9));
  EXPECT_TRUE(torch::equal(out.gt_bboxes_ignore, torch::tensor({{11.f, 1.f, 15.f, 5.f}})));

  // The photometric steps need the uint8 picture (before Normalize).
  const auto equalize = build_compose(pipeline_from("[dict(type='EqualizeTransform', prob=1.0)]"), "p");
  Sample f;
  f.img_file = "a.jpg";
  f.img = cv::Mat(4, 4, CV_32FC3, cv::Scalar::all(0.5));
  const std::string e = testing::user_error_of([&] { (*equalize)(std::move(f)); });
  EXPECT_NE(e.find("EqualizeTransform: image 'a.jpg' is not a 3-channel uint8 picture"), std::string::npos) << e;
}

}  // namespace
}  // namespace cppdet::data::auto_augment_test
