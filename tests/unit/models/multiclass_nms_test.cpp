// The `nms` config (models/task/multiclass_nms.h) with type='soft_nms', and multiclass_nms
// running it: mmcv's defaults, the decayed scores in the detections, errors naming the key.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/config_file.h"
#include "cppdet/models/task/multiclass_nms.h"
#include "support/test_support.h"

namespace cppdet::models {
namespace {

NmsConfig parse_nms_config(const std::string& python_dict) {
  return NmsConfig::from_config(config::parse_config_text("nms = " + python_dict, "test.py").as_dict().at("nms"),
                                "model.test_cfg.rcnn.nms");
}

TEST(SoftNmsConfig, DefaultsAsMmcvAndErrorsNameTheKey) {
  const NmsConfig hard = parse_nms_config("dict(type='nms', iou_threshold=0.5)");
  EXPECT_FALSE(hard.soft.has_value());
  const NmsConfig soft = parse_nms_config("dict(type='soft_nms')");
  ASSERT_TRUE(soft.soft.has_value());
  EXPECT_DOUBLE_EQ(soft.soft->iou_threshold, 0.3);
  EXPECT_DOUBLE_EQ(soft.soft->sigma, 0.5);
  EXPECT_DOUBLE_EQ(soft.soft->min_score, 1e-3);
  EXPECT_EQ(soft.soft->method, ops::SoftNmsMethod::kLinear);
  const NmsConfig g = parse_nms_config("dict(type='soft_nms', iou_thr=0.6, method='gaussian', sigma=0.4, min_score=0.05)");
  EXPECT_DOUBLE_EQ(g.soft->iou_threshold, 0.6);
  EXPECT_EQ(g.soft->method, ops::SoftNmsMethod::kGaussian);
  EXPECT_DOUBLE_EQ(g.soft->sigma, 0.4);

  auto error = [](const std::string& cfg) { return testing::user_error_of([&] { parse_nms_config(cfg); }); };
  EXPECT_NE(error("dict(type='soft_nms', method='cubic')").find("model.test_cfg.rcnn.nms.method"), std::string::npos);
  EXPECT_NE(error("dict(type='soft_nms', min_scor=0.1)").find("min_scor"), std::string::npos);
  EXPECT_NE(error("dict(type='matrix_nms')").find("model.test_cfg.rcnn.nms.type"), std::string::npos);
}

TEST(SoftNmsConfig, MulticlassNmsKeepsDecayedScores) {
  // Two overlapping boxes of class 0 (IoU 0.5) and one of class 1 at the same place.
  const torch::Tensor boxes = torch::tensor({0., 0., 10., 10., 0., 0., 10., 10., 0., 0., 10., 5., 0., 0., 10., 5.}).view({2, 8});
  const torch::Tensor scores = torch::tensor({0.9, 0.1, 0.0, 0.8, 0.7, 0.0}).view({2, 3}).to(torch::kFloat);
  const NmsConfig cfg = parse_nms_config("dict(type='soft_nms', iou_threshold=0.3, min_score=0.05)");
  const Detections d = multiclass_nms(boxes.to(torch::kFloat), scores, 0.05, cfg, 100);
  // class 0: 0.9 kept, 0.8 decayed by (1 - IoU 0.5) to 0.4; class 1: 0.7 kept first.
  ASSERT_EQ(d.bboxes.size(0), 4);
  EXPECT_NEAR(d.bboxes[0][4].item<float>(), 0.9f, 1e-6);
  EXPECT_NEAR(d.bboxes[1][4].item<float>(), 0.7f, 1e-6);
  EXPECT_NEAR(d.bboxes[2][4].item<float>(), 0.4f, 1e-6);
  EXPECT_EQ(d.labels[2].item<int64_t>(), 0);
  // class 1's 0.1 box (IoU 0.5 with its 0.7 box) decays to 0.05: not below min_score, kept.
  EXPECT_NEAR(d.bboxes[3][4].item<float>(), 0.05f, 1e-6);
  EXPECT_EQ(d.labels[3].item<int64_t>(), 1);
  const Detections top2 = multiclass_nms(boxes.to(torch::kFloat), scores, 0.05, cfg, 2);
  EXPECT_EQ(top2.bboxes.size(0), 2);
}

}  // namespace
}  // namespace cppdet::models
