// COCO json loading: records, segmentation forms, loadRes rules and error messages.
#include "cppdet/evaluation/coco_json.h"

#include <gtest/gtest.h>

#include "cppdet/core/error.h"
#include "cppdet/evaluation/coco_params_json.h"
#include "cppdet/evaluation/mmdet_coco_metrics.h"
#include "support/test_support.h"

namespace cppdet::evaluation {
namespace {

const char* kGt = R"({
  "info": {"year": 2017}, "licenses": [],
  "images": [{"id": 7, "width": 40, "height": 30, "file_name": "a.jpg", "extra": [1, {"x": 2}]},
             {"id": 9, "width": 20, "height": 10, "file_name": "b.jpg"}],
  "annotations": [
    {"id": 1, "image_id": 7, "category_id": 3, "bbox": [10, 10, 30, 20], "area": 600.5, "iscrowd": 0,
     "segmentation": [[10, 10, 10, 30, 40, 30, 40, 10]]},
    {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 1, "ignore": true,
     "segmentation": {"size": [30, 40], "counts": [0, 2, 28, 2, 1168]}},
    {"id": 3, "image_id": 9, "category_id": 3, "bbox": [1.5, 2.5, 3, 4], "area": 12, "iscrowd": false,
     "segmentation": {"size": [10, 20], "counts": "52000000o3"}}],
  "categories": [{"id": 3, "name": "cat", "supercategory": "animal"}, {"id": 1, "name": "person"}]
})";

TEST(CocoJson, LoadsRecordsAndSegmentations) {
  const CocoGroundTruth gt = parse_coco_ground_truth(kGt, "gt.json");
  ASSERT_EQ(gt.images.size(), 2u);
  EXPECT_EQ(gt.images[0].file_name, "a.jpg");
  EXPECT_EQ(gt.images[1].height, 10);
  ASSERT_EQ(gt.categories.size(), 2u);
  EXPECT_EQ(gt.categories[0].supercategory, "animal");
  EXPECT_EQ(gt.category_index(1), 1);
  EXPECT_EQ(gt.image_index(9), 1);
  EXPECT_EQ(gt.image_index(8), -1);
  const auto& anns = gt.annotations();
  ASSERT_EQ(anns.size(), 3u);
  EXPECT_EQ(anns[0].segmentation, SegmentationKind::kPolygons);
  EXPECT_EQ(gt.store.polygons(anns[0]), (std::vector<std::vector<double>>{{10, 10, 10, 30, 40, 30, 40, 10}}));
  EXPECT_DOUBLE_EQ(anns[0].area, 600.5);
  const Rle poly = gt.store.to_rle(anns[0], 30, 40);
  EXPECT_EQ(rle_area(poly), 600u);
  EXPECT_EQ(rle_to_bbox(poly), (BoxXywh{10, 10, 30, 20}));
  EXPECT_TRUE(anns[1].iscrowd);
  EXPECT_TRUE(anns[1].ignore);
  EXPECT_EQ(anns[1].segmentation, SegmentationKind::kRleCounts);
  EXPECT_EQ(gt.store.to_rle(anns[1], 30, 40).counts, (std::vector<uint32_t>{0, 2, 28, 2, 1168}));
  EXPECT_EQ(anns[2].segmentation, SegmentationKind::kRleString);
  EXPECT_EQ(anns[2].bbox, (BoxXywh{1.5, 2.5, 3, 4}));
  EXPECT_FALSE(anns[2].iscrowd);
}

TEST(CocoJson, LoadResBboxBranch) {
  const CocoGroundTruth gt = parse_coco_ground_truth(kGt, "gt.json");
  const CocoResults r = parse_coco_results(
      R"([{"image_id": 9, "category_id": 3, "bbox": [1, 2, 3.5, 4], "score": 0.5},
          {"image_id": 7, "category_id": 99, "bbox": [0, 0, 1, 1], "score": 0.25}])",
      "dt.json", gt);
  ASSERT_EQ(r.detections().size(), 2u);
  EXPECT_TRUE(r.from_boxes);
  EXPECT_EQ(r.detections()[0].id, 1);
  EXPECT_EQ(r.detections()[1].id, 2);
  EXPECT_EQ(r.detections()[0].area, 14.0);
  EXPECT_EQ(r.detections()[0].segmentation, SegmentationKind::kBoxPolygon);
}

TEST(CocoJson, LoadResSegmBranchTakesAreaAndBoxFromTheMask) {
  const CocoGroundTruth gt = parse_coco_ground_truth(kGt, "gt.json");
  const CocoResults r = parse_coco_results(
      R"([{"image_id": 7, "category_id": 3, "segmentation": {"size": [30, 40], "counts": "02=000000000000000000000000000N[;"}, "score": 0.5}])",
      "dt.json", gt);
  const CocoAnnotation& d = r.detections()[0];
  EXPECT_FALSE(r.from_boxes);
  const Rle m = r.store.to_rle(d, 30, 40);
  EXPECT_EQ(d.area, rle_area(m));
  EXPECT_EQ(d.bbox, rle_to_bbox(m));
  EXPECT_FALSE(d.iscrowd);
}

using testing::user_error_of;  // FileFormatError is a UserError

TEST(CocoJson, ResultOnUnknownImageNamesTheId) {
  const CocoGroundTruth gt = parse_coco_ground_truth(kGt, "gt.json");
  const std::string msg = user_error_of([&] {
    parse_coco_results(R"([{"image_id": 7, "category_id": 3, "bbox": [0,0,1,1], "score": 1},
                           {"image_id": 123, "category_id": 3, "bbox": [0,0,1,1], "score": 1}])",
                       "dt.json", gt);
  });
  EXPECT_NE(msg.find("dt.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("image_id 123"), std::string::npos) << msg;
}

TEST(CocoJson, NotCocoAndMalformedJsonAreFileFormatErrors) {
  EXPECT_NE(user_error_of([] { parse_coco_ground_truth("[1, 2]", "x.json"); }).find("x.json: not a COCO annotation file"),
            std::string::npos);
  EXPECT_NE(user_error_of([] { parse_coco_ground_truth(R"({"foo": 1})", "x.json"); }).find("no \"images\""), std::string::npos);
  EXPECT_NE(user_error_of([] { parse_coco_ground_truth(R"({"images": 3})", "x.json"); }).find("\"images\" is not a list"),
            std::string::npos);
  const std::string bad = user_error_of([] { parse_coco_ground_truth("{\"images\": [\n{\"id\": 1,}]}", "x.json"); });
  EXPECT_NE(bad.find("x.json:2:"), std::string::npos) << bad;
  EXPECT_NE(bad.find("malformed JSON (byte"), std::string::npos) << bad;
  EXPECT_NE(user_error_of([] { parse_coco_ground_truth("", "x.json"); }).find("x.json:1:1: malformed JSON"), std::string::npos);
  const std::string bbox = user_error_of([] {
    parse_coco_ground_truth(R"({"images": [], "annotations": [{"id": 1}, {"id": 2, "bbox": [1, 2, 3]}]})", "x.json");
  });
  EXPECT_NE(bbox.find("x.json: annotations[1].bbox"), std::string::npos) << bbox;
  const std::string id = user_error_of([] { parse_coco_ground_truth(R"({"images": [{"id": "abc"}]})", "x.json"); });
  EXPECT_NE(id.find("images[0].id"), std::string::npos) << id;
  const CocoGroundTruth gt = parse_coco_ground_truth(kGt, "gt.json");
  EXPECT_NE(user_error_of([&] { parse_coco_results(R"({"images": []})", "dt.json", gt); }).find("not a COCO results file"),
            std::string::npos);
  EXPECT_NE(user_error_of([&] { parse_coco_results(R"([{"image_id": 7, "category_id": 1, "bbox": [0,0,1,1]}])", "dt.json", gt); })
                .find("no \"score\""),
            std::string::npos);
  EXPECT_NE(user_error_of([] { load_coco_ground_truth("/nonexistent/gt.json"); }).find("/nonexistent/gt.json"),
            std::string::npos);
}

TEST(CocoParamsJson, OverridesByNameWithHexFloats) {
  const CocoEvalParams p = apply_params_json(
      R"({"useCats": 0, "maxDets": [1, 10, 100], "iouThrs": ["0x1.cccccccccccccp-1", 0.5], "areaRng": [[0, 1e10], [0, 256], [256, 4096], [4096, 1e10]], "catIds": [3], "imgIds": [7, 9]})",
      "--params", CocoEvalParams::defaults(IouType::kBbox));
  EXPECT_FALSE(p.use_cats);
  EXPECT_EQ(p.iou_thrs, (std::vector<double>{0x1.cccccccccccccp-1, 0.5}));
  EXPECT_EQ(p.area_rng[1][1], 256.0);
  EXPECT_EQ(p.img_ids, (std::vector<int64_t>{7, 9}));
  EXPECT_THROW(apply_params_json(R"({"maxDet": [1]})", "--params", p), UserError);
  EXPECT_THROW(apply_params_json(R"({"iouThrs": ["x"]})", "--params", p), UserError);
}

TEST(MmdetMetrics, KeysRoundingAndCopypaste) {
  const std::array<double, 12> stats{0.3696475, 0.5714, 0.40168, 0.39302, 0.36660, 0.36202,
                                     0.50843, 0.79595, 0.80000, 0.80122, 0.79676, 0.80218};
  const MmdetCocoMetrics m = mmdet_coco_metrics("bbox", stats);
  ASSERT_EQ(m.values.size(), 6u);
  EXPECT_EQ(m.values[0].first, "bbox_mAP");
  EXPECT_EQ(m.values[0].second, 0.37);
  EXPECT_EQ(m.values[5].first, "bbox_mAP_l");
  EXPECT_EQ(m.copypaste_key, "bbox_mAP_copypaste");
  EXPECT_EQ(m.copypaste, "0.370 0.571 0.402 0.393 0.367 0.362");
  const MmdetCocoMetrics p = mmdet_coco_metrics("proposal", stats);
  EXPECT_EQ(p.values[0].first, "AR@100");
  EXPECT_EQ(p.values[5].first, "AR_l@1000");
  EXPECT_EQ(p.values[5].second, 0.802);
  EXPECT_TRUE(p.copypaste.empty());
  EXPECT_THROW(mmdet_coco_metrics("bbox", stats, {"mAP_xl"}), UserError);
  EXPECT_EQ(ascii_table({{"category", "AP"}, {"person", "0.360"}}),
            "+----------+-------+\n| category | AP    |\n+----------+-------+\n| person   | 0.360 |\n+----------+-------+");
}

}  // namespace
}  // namespace cppdet::evaluation
