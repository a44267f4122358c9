// VOC mAP and recall (mmdet's eval_map / eval_recalls) on hand-computed cases.
#include "cppdet/evaluation/voc_map.h"

#include <gtest/gtest.h>

namespace cppdet::evaluation {
namespace {

// Class 0: gts G1 [0,0,9,9], G2 [20,0,29,9] and a difficult G3 [40,0,49,9].
// Detections by score: d1 hits G1 with IoU exactly 0.5 only with the legacy +1 sizes
// (50/100; 36/81 without), d2 is a false positive, d3 hits the difficult box (ignored:
// neither TP nor FP), d4 hits G2.
// tp_cum 1,1,1,2  fp_cum 0,1,1,1  -> recall .5,.5,.5,1  precision 1,.5,.5,2/3.
VocImageAnnotation two_gts_one_difficult() {
  VocImageAnnotation a;
  a.bboxes = {{0, 0, 9, 9}, {20, 0, 29, 9}};
  a.labels = {0, 0};
  a.bboxes_ignore = {{40, 0, 49, 9}};
  a.labels_ignore = {0};
  return a;
}

std::vector<std::vector<std::vector<VocDetection>>> four_detections() {
  return {{{{0, 0, 9, 4, 0.9f}, {100, 100, 109, 109, 0.8f}, {40, 0, 49, 9, 0.7f}, {20, 0, 29, 9, 0.6f}}}};
}

TEST(VocMap, AreaModeWithDifficultBoxAndLegacyCoordinates) {
  const VocMapResult r = eval_map(four_detections(), {two_gts_one_difficult()}, 0.5, VocApMode::kArea);
  ASSERT_EQ(r.classes.size(), 1u);
  const VocClassResult& c = r.classes[0];
  EXPECT_EQ(c.num_gts, 2);
  EXPECT_EQ(c.num_dets, 4);
  EXPECT_EQ(c.recall, (std::vector<double>{0.5, 0.5, 0.5, 1.0}));
  EXPECT_EQ(c.precision, (std::vector<float>{1.0f, 0.5f, 0.5f, 2.0f / 3.0f}));
  // Envelope 1, 1, 2/3: AP = 0.5*1 + 0.5*(2/3).
  EXPECT_FLOAT_EQ(c.ap, 5.0f / 6.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(r.mean_ap), 5.0f / 6.0f);
}

TEST(VocMap, ElevenPointModeVoc07) {
  const VocMapResult r = eval_map(four_detections(), {two_gts_one_difficult()}, 0.5, VocApMode::kElevenPoints);
  // Thresholds 0..0.5 see precision 1; 0.6..1.0 see 2/3 (recall 1 reaches 6*0.1 = 0.6000000000000001).
  EXPECT_FLOAT_EQ(r.classes[0].ap, (6.0f + 5.0f * (2.0f / 3.0f)) / 11.0f);
}

TEST(VocMap, WithoutLegacyCoordinatesTheHalfOverlapMisses) {
  const VocMapResult r = eval_map(four_detections(), {two_gts_one_difficult()}, 0.5, VocApMode::kArea, false);
  // d1 is now a FP: tp 0,0,0,1  fp 1,2,2,2 -> precision 0,0,0,1/3, recall 0,0,0,.5 -> AP = .5/3.
  EXPECT_FLOAT_EQ(r.classes[0].ap, 0.5f / 3.0f);
}

TEST(VocMap, MeanSkipsClassesWithoutGroundTruth) {
  // Class 1 has detections but no gt (excluded from the mean); class 2 has gt but no
  // detections (AP 0, included).
  VocImageAnnotation a = two_gts_one_difficult();
  a.bboxes.push_back({60, 60, 70, 70});
  a.labels.push_back(2);
  auto dets = four_detections();
  dets[0].push_back({{5, 5, 10, 10, 0.5f}});
  dets[0].push_back({});
  const VocMapResult r = eval_map(dets, {a}, 0.5, VocApMode::kArea);
  ASSERT_EQ(r.classes.size(), 3u);
  EXPECT_EQ(r.classes[1].num_gts, 0);
  EXPECT_EQ(r.classes[1].ap, 0.0f);
  EXPECT_EQ(r.classes[2].ap, 0.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(r.mean_ap), (5.0f / 6.0f) / 2.0f);
  const std::string table = map_summary_table(r, {"a", "b", "c"});
  EXPECT_EQ(table,
            "+-------+-----+------+--------+-------+\n"
            "| class | gts | dets | recall | ap    |\n"
            "+-------+-----+------+--------+-------+\n"
            "| a     | 2   | 4    | 1.000  | 0.833 |\n"
            "| b     | 0   | 1    | 0.000  | 0.000 |\n"
            "| c     | 1   | 0    | 0.000  | 0.000 |\n"
            "+-------+-----+------+--------+-------+\n"
            "| mAP   |     |      |        | 0.417 |\n"
            "+-------+-----+------+--------+-------+");
}

TEST(VocMap, OverlapsUseFloat32AndPlusOne) {
  const auto iou = voc_bbox_overlaps({{0, 0, 9, 9}}, {{0, 0, 9, 4}, {10, 10, 20, 20}}, true);
  EXPECT_EQ(iou[0][0], 0.5f);
  EXPECT_EQ(iou[0][1], 0.0f);
}

TEST(VocRecall, GreedyOneToOneMatching) {
  const std::vector<std::vector<VocBox>> gts{{{0, 0, 9, 9}, {20, 20, 29, 29}}};
  const std::vector<std::vector<VocDetection>> props{{{50, 50, 60, 60, 0.1f}, {20, 20, 29, 24, 0.8f}, {0, 0, 9, 9, 0.9f}}};
  const auto r = eval_recalls(gts, props, {1, 2}, {0.5, 0.7});
  // Top-1 proposal finds only gt 1; top-2 also reaches gt 2 with IoU 0.5.
  EXPECT_EQ(r, (std::vector<std::vector<double>>{{0.5, 0.5}, {1.0, 0.5}}));
}

}  // namespace
}  // namespace cppdet::evaluation
