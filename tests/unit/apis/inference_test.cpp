// init_detector / inference_detector / show_result on the oracle's tiny Mask R-CNN.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "cppdet/apis/device.h"
#include "cppdet/apis/inference.h"
#include "cppdet/apis/results_json.h"
#include "cppdet/apis/show_result.h"
#include "cppdet/core/error.h"
#include "cppdet/models/detector.h"
#include "support/test_support.h"

namespace cppdet::apis {
namespace {

std::string case_file(const std::string& c, const std::string& name) {
  return testing::fixture("oracle_cases/" + c + "/" + name);
}

const InferenceModel& mask_model() {
  static const InferenceModel model =
      init_detector(case_file("mask_tiny_r50", "config.py"), case_file("mask_tiny_r50", "checkpoint_zip.pth"), "cpu");
  return model;
}

TEST(InitDetector, TakesClassNamesFromTheCheckpoint) {
  const InferenceModel& model = mask_model();
  ASSERT_EQ(model.class_names.size(), 80u);
  EXPECT_EQ(model.class_names[9], "traffic_light");  // meta.CLASSES spelling
  EXPECT_TRUE(model.detector->with_mask());
  EXPECT_EQ(model.device, "cpu");

  const InferenceModel caffe = init_detector(case_file("faster_tiny_r18_caffe", "config.py"), "", "cpu");
  EXPECT_EQ(caffe.class_names, (std::vector<std::string>{"class_a", "class_b", "class_c"}));  // data.test.classes
}

TEST(InitDetector, RejectsACheckpointOfAnotherModel) {
  try {
    init_detector(case_file("mask_tiny_r50", "config.py"), case_file("faster_tiny_r18_caffe", "checkpoint_zip.pth"));
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
}

TEST(Device, ChecksTheDeviceString) {
  EXPECT_EQ(check_device("cpu"), "cpu");
  EXPECT_THROW(check_device("gpu"), UserError);
  EXPECT_THROW(check_device("cuda:x"), UserError);
  EXPECT_THROW(check_device("cuda:99"), UserError);
#ifndef CPPDET_WITH_CUDA
  try {
    check_device("cuda:0");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA support"), std::string::npos) << e.what();
  }
#endif
}

TEST(InferenceDetector, PathAndArrayInputsGiveTheSameResult) {
  const InferenceModel& model = mask_model();
  const std::string path = case_file("mask_tiny_r50", "rocket_crop.png");
  const DetResult from_path = inference_detector(model, path);
  const DetResult from_array = inference_detector(model, cv::imread(path));
  ASSERT_EQ(from_path.bboxes.size(), 80u);
  ASSERT_TRUE(from_path.has_masks());
  for (size_t c = 0; c < 80; ++c) {
    EXPECT_TRUE(torch::equal(from_path.bboxes[c], from_array.bboxes[c])) << c;
    EXPECT_TRUE(torch::equal(from_path.masks[c], from_array.masks[c])) << c;
    if (from_path.masks[c].size(0) > 0) EXPECT_EQ(from_path.masks[c].sizes().vec(), (std::vector<int64_t>{from_path.bboxes[c].size(0), 300, 380}));
  }

  // A batch of two differently sized images: one result per image, at its own size.
  const BatchInference batch = inference_batch(model, std::vector<std::string>{path, case_file("mask_tiny_r50", "coffee.png")});
  ASSERT_EQ(batch.results.size(), 2u);
  EXPECT_EQ(batch.metas[1].ori_shape, (std::array<int64_t, 3>{400, 600, 3}));
  EXPECT_EQ(batch.metas[0].pad_shape, (std::array<int64_t, 3>{800, 1024, 3}));
  for (const torch::Tensor& m : batch.results[1].masks)
    if (m.size(0) > 0) EXPECT_EQ(m.size(2), 600);
}

TEST(ShowResult, DrawsAndWritesTheImage) {
  const InferenceModel& model = mask_model();
  const std::string path = case_file("mask_tiny_r50", "coffee.png");
  const DetResult result = inference_detector(model, path);
  ShowOptions options;
  options.draw.score_thr = 0.2;
  options.out_file = testing::make_temp_dir("show") + "/a/b/out.png";
  const cv::Mat drawn = show_result(model, path, result, options);
  ASSERT_TRUE(std::filesystem::exists(options.out_file));
  const cv::Mat original = cv::imread(path);
  EXPECT_EQ(drawn.size(), original.size());
  EXPECT_GT(cv::norm(drawn, original, cv::NORM_L1), 0);

  // Nothing above the threshold: the image comes back unchanged.
  options.draw.score_thr = 0.99;
  options.out_file.clear();
  EXPECT_EQ(cv::norm(show_result(model, original, result, options), original, cv::NORM_INF), 0);
}

TEST(ResultsJson, SnakeCaseModelTypes) {
  EXPECT_EQ(snake_case("FasterRCNN"), "faster_rcnn");
  EXPECT_EQ(snake_case("MaskRCNN"), "mask_rcnn");
  EXPECT_EQ(snake_case("RetinaNet"), "retina_net");
}

}  // namespace
}  // namespace cppdet::apis
