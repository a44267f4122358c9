// The TorchServe MMDetection handler's JSON for a DetResult.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "cppdet/serving/predictions_json.h"

namespace cppdet::serving {
namespace {

DetResult two_class_result() {
  DetResult r;
  r.bboxes.push_back(torch::tensor({{1.5f, 2.f, 30.f, 40.f, 0.9f}, {5.f, 6.f, 7.f, 8.f, 0.2f}}));  // class 0
  r.bboxes.push_back(torch::tensor({{10.f, 11.f, 12.f, 13.f, 0.3f}}));                           // class 1
  return r;
}

TEST(PredictionsJson, ListsDetectionsAtOrAboveTheThresholdClassByClass) {
  const nlohmann::ordered_json out = predictions_json(two_class_result(), {"person", "bicycle"}, 0.3, false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["class_label"], 0);
  EXPECT_EQ(out[0]["class_name"], "person");
  EXPECT_EQ(out[0]["bbox"], nlohmann::ordered_json({1.5, 2.0, 30.0, 40.0}));
  EXPECT_EQ(out[0].begin().key(), "class_label");  // the handler's key order
  EXPECT_EQ(out[0]["score"].get<double>(), static_cast<double>(0.9f));  // the float32 score, exactly
  // float32(0.3) = 0.30000001192... >= 0.3: kept, as the handler's float(score) >= threshold keeps it.
  EXPECT_EQ(out[1]["class_label"], 1);
  EXPECT_EQ(out[1]["class_name"], "bicycle");
  EXPECT_FALSE(out[1].contains("segmentation"));
  EXPECT_EQ(predictions_json(two_class_result(), {"person", "bicycle"}, 0.95, false), nlohmann::ordered_json::array());
  EXPECT_EQ(predictions_json(two_class_result(), {"person", "bicycle"}, 0.0, false).size(), 3u);
}

TEST(PredictionsJson, MasksAreCocoRleOfTheFullImage) {
  DetResult r;
  r.bboxes.push_back(torch::tensor({{0.f, 0.f, 3.f, 2.f, 0.8f}}));
  // [1, 2, 3] mask [[0, 1, 1], [0, 0, 1]]: column-major 0 0 | 1 0 | 1 1 -> runs 2, 1, 1, 2.
  r.masks.push_back(torch::tensor({{0, 1, 1}, {0, 0, 1}}, torch::kBool).unsqueeze(0));
  const nlohmann::ordered_json with = predictions_json(r, {"a"}, 0.3, true);
  ASSERT_EQ(with.size(), 1u);
  EXPECT_EQ(with[0]["segmentation"]["size"], nlohmann::ordered_json({2, 3}));
  EXPECT_EQ(with[0]["segmentation"]["counts"], "2111");  // pycocotools' compressed form of 2, 1, 1, 2
  EXPECT_FALSE(predictions_json(r, {"a"}, 0.3, false)[0].contains("segmentation"));
}

}  // namespace
}  // namespace cppdet::serving
