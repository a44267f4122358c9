// via2coco: the balloon tutorial's semantics, checked field by field against expectations
// computed here from the VIA file and the image files (tiny fixture always; the real balloon
// set when ../shared is present), plus the non-polygon shapes and the error cases.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "converters_test_util.h"
#include "cppdet/core/error.h"
#include "cppdet/data/converters/via_to_coco.h"
#include "support/test_support.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;
using testing::read_json;
using Json = nlohmann::ordered_json;

double num(const Json& j) { return j.get<double>(); }

// The tutorial's conversion, written out again for polygon-only VIA files.
void expect_tutorial_semantics(const std::string& via_path, const std::string& img_dir, const Json& coco,
                               const std::string& category) {
  const Json via = read_json(via_path);
  ASSERT_EQ(coco["images"].size(), via.size());
  size_t idx = 0, ann_id = 0;
  const Json& anns = coco["annotations"];
  for (const auto& [key, v] : via.items()) {
    SCOPED_TRACE(v["filename"].get<std::string>());
    const Json& img = coco["images"][idx];
    EXPECT_EQ(img["id"], idx);
    EXPECT_EQ(img["file_name"], v["filename"]);
    const cv::Mat m = cv::imread((fs::path(img_dir) / v["filename"].get<std::string>()).string(), cv::IMREAD_COLOR);
    EXPECT_EQ(img["height"].get<int>(), m.rows);
    EXPECT_EQ(img["width"].get<int>(), m.cols);
    for (const auto& [rkey, region] : v["regions"].items()) {
      ASSERT_LT(ann_id, anns.size());
      const Json& a = anns[ann_id];
      const Json& px = region["shape_attributes"]["all_points_x"];
      const Json& py = region["shape_attributes"]["all_points_y"];
      EXPECT_EQ(a["image_id"], idx);
      EXPECT_EQ(a["id"], ann_id);
      EXPECT_EQ(a["category_id"], 0);
      EXPECT_EQ(a["iscrowd"], 0);
      ASSERT_EQ(a["segmentation"].size(), 1u);
      const Json& poly = a["segmentation"][0];
      ASSERT_EQ(poly.size(), 2 * px.size());
      double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
      for (size_t i = 0; i < px.size(); ++i) {
        EXPECT_EQ(num(poly[2 * i]), num(px[i]) + 0.5);
        EXPECT_EQ(num(poly[2 * i + 1]), num(py[i]) + 0.5);
        x0 = std::min(x0, num(px[i])), x1 = std::max(x1, num(px[i]));
        y0 = std::min(y0, num(py[i])), y1 = std::max(y1, num(py[i]));
      }
      ASSERT_EQ(a["bbox"].size(), 4u);
      EXPECT_EQ(num(a["bbox"][0]), x0);
      EXPECT_EQ(num(a["bbox"][1]), y0);
      EXPECT_EQ(num(a["bbox"][2]), x1 - x0);
      EXPECT_EQ(num(a["bbox"][3]), y1 - y0);
      EXPECT_EQ(num(a["area"]), (x1 - x0) * (y1 - y0));
      ++ann_id;
    }
    ++idx;
  }
  EXPECT_EQ(anns.size(), ann_id);
  EXPECT_EQ(coco["categories"], Json::parse("[{\"id\": 0, \"name\": \"" + category + "\"}]"));
}

TEST(ViaToCoco, FixtureFollowsTutorialSemanticsAndConvertsRectAndCircle) {
  const std::string dir = cppdet::testing::fixture("converters/via");
  ViaToCocoOptions o{dir + "/via_region_data.json", dir, "balloon", 1};
  const Json coco = via_to_coco(o);
  // Images in VIA-file order (img_b first), sizes from the files.
  ASSERT_EQ(coco["images"].size(), 2u);
  EXPECT_EQ(coco["images"][0]["file_name"], "img_b.png");
  EXPECT_EQ(coco["images"][0]["width"], 24);
  EXPECT_EQ(coco["images"][0]["height"], 32);
  EXPECT_EQ(coco["images"][1]["file_name"], "img_a.jpg");
  EXPECT_EQ(coco["images"][1]["width"], 40);
  EXPECT_EQ(coco["images"][1]["height"], 30);
  const Json& anns = coco["annotations"];
  ASSERT_EQ(anns.size(), 5u);
  // Polygon with integer points: integer bbox and area.
  EXPECT_EQ(anns[0]["bbox"], Json::parse("[4, 6, 16, 24]"));
  EXPECT_TRUE(anns[0]["area"].is_number_integer());
  EXPECT_EQ(anns[0]["area"], 384);
  EXPECT_EQ(anns[0]["segmentation"][0], Json::parse("[4.5, 6.5, 20.5, 6.5, 20.5, 26.5, 12.5, 30.5, 4.5, 26.5]"));
  // rect {x 2, y 3, w 5, h 7} -> its corners, same rules.
  EXPECT_EQ(anns[1]["bbox"], Json::parse("[2, 3, 5, 7]"));
  EXPECT_EQ(anns[1]["area"], 35);
  EXPECT_EQ(anns[1]["segmentation"][0], Json::parse("[2.5, 3.5, 7.5, 3.5, 7.5, 10.5, 2.5, 10.5]"));
  EXPECT_EQ(anns[1]["image_id"], 0);
  // circle (30, 15, r 6) -> kEllipsePoints outline points with the exact extremes.
  EXPECT_EQ(anns[3]["image_id"], 1);
  EXPECT_EQ(anns[3]["id"], 3);
  EXPECT_EQ(anns[3]["segmentation"][0].size(), 2u * kEllipsePoints);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(num(anns[3]["bbox"][i]), (std::array<double, 4>{24, 9, 12, 12})[i], 1e-9);
  EXPECT_NEAR(num(anns[3]["area"]), 144, 1e-9);
  EXPECT_NEAR(num(anns[3]["segmentation"][0][0]), 36.5, 1e-12);
  EXPECT_NEAR(num(anns[3]["segmentation"][0][1]), 15.5, 1e-12);
  // Float polygon: float bbox.
  EXPECT_EQ(anns[4]["bbox"], Json::parse("[1.5, 22, 7.75, 6]"));
  EXPECT_DOUBLE_EQ(num(anns[4]["area"]), 46.5);

  // The polygon-only part against the independent expectation (drop the non-polygon regions).
  Json via = read_json(o.via_json);
  via["img_b.png184"]["regions"].erase("1");
  via["img_a.jpg957"]["regions"].erase("1");
  const std::string tmp = cppdet::testing::make_temp_dir("via-poly") + "/via.json";
  std::ofstream(tmp) << via.dump();
  const Json poly_only = via_to_coco({tmp, dir, "toy", 2});
  expect_tutorial_semantics(tmp, dir, poly_only, "toy");
}

TEST(ViaToCoco, Via2ProjectWithRegionListAndEllipse) {
  const std::string dir = cppdet::testing::fixture("converters/via");
  const std::string tmp = cppdet::testing::make_temp_dir("via2") + "/project.json";
  std::ofstream(tmp) << R"({"_via_settings": {}, "_via_img_metadata": {
    "img_a.jpg957": {"filename": "img_a.jpg", "size": 957, "file_attributes": {}, "regions": [
      {"shape_attributes": {"name": "ellipse", "cx": 20, "cy": 15, "rx": 8, "ry": 4, "theta": 0}, "region_attributes": {"type": "x"}},
      {"shape_attributes": {"name": "polygon", "all_points_x": [1, 5, 3], "all_points_y": [1, 1, 4]}, "region_attributes": {}}]}}})";
  const Json coco = via_to_coco({tmp, dir, "thing", 1});
  ASSERT_EQ(coco["annotations"].size(), 2u);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(num(coco["annotations"][0]["bbox"][i]), (std::array<double, 4>{12, 11, 16, 8})[i], 1e-9);
  EXPECT_EQ(coco["annotations"][1]["bbox"], Json::parse("[1, 1, 4, 3]"));
  EXPECT_EQ(coco["categories"][0]["name"], "thing");
}

TEST(ViaToCoco, BalloonBothSplitsFieldByField) {
  const std::string shared = cppdet::testing::shared_dir();
  if (shared.empty() || !fs::exists(shared + "/data/balloon/train/via_region_data.json"))
    GTEST_SKIP() << "../shared/data/balloon not present";
  for (const char* split : {"train", "val"}) {
    SCOPED_TRACE(split);
    const std::string dir = shared + "/data/balloon/" + split;
    const Json coco = via_to_coco({dir + "/via_region_data.json", dir, "balloon", 2});
    expect_tutorial_semantics(dir + "/via_region_data.json", dir, coco, "balloon");
    EXPECT_EQ(coco["images"].size(), std::string(split) == "train" ? 61u : 13u);
    EXPECT_EQ(coco["annotations"].size(), std::string(split) == "train" ? 255u : 50u);
  }
}

std::string via_error(const ViaToCocoOptions& o) {
  return cppdet::testing::user_error_of([&] { via_to_coco(o); });
}

TEST(ViaToCoco, BadInputsAreUserErrorsNamingTheFile) {
  const std::string dir = cppdet::testing::fixture("converters/via");
  const std::string tmp = cppdet::testing::make_temp_dir("via-bad");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp + "/" + name) << text;
    return tmp + "/" + name;
  };
  const std::string malformed = write("malformed.json", "{\"a.jpg1\": {\"filename\": ");
  const std::string malformed_msg = via_error({malformed, dir, "b", 1});
  EXPECT_NE(malformed_msg.find(malformed + ": invalid JSON"), std::string::npos) << malformed_msg;
  const std::string missing_img = write("missing.json", R"({"k": {"filename": "nope.jpg", "regions": {}}})");
  EXPECT_NE(via_error({missing_img, dir, "b", 1}).find(dir + "/nope.jpg: image file not found"), std::string::npos);
  const std::string point = write("point.json",
                                  R"({"k": {"filename": "img_a.jpg", "regions": {"0": {"shape_attributes": {"name": "point", "cx": 1, "cy": 2}}}}})");
  const std::string msg = via_error({point, dir, "b", 1});
  EXPECT_NE(msg.find(point + ": image \"img_a.jpg\" region 0: shape \"point\""), std::string::npos) << msg;
  const std::string two = write("two.json",
                                R"({"k": {"filename": "img_a.jpg", "regions": [{"shape_attributes": {"name": "polygon", "all_points_x": [1, 2], "all_points_y": [1, 2]}}]}})");
  EXPECT_NE(via_error({two, dir, "b", 1}).find("at least 3 points"), std::string::npos);
  const std::string empty = write("empty.json", "{}");
  EXPECT_NE(via_error({empty, dir, "b", 1}).find("lists no images"), std::string::npos);
  const std::string garbage_img = write("garbage.jpg", "not a jpeg");
  const std::string bad_img = write("badimg.json", R"({"k": {"filename": "garbage.jpg", "regions": {}}})");
  EXPECT_NE(via_error({bad_img, tmp, "b", 1}).find(garbage_img + ": cannot decode"), std::string::npos);
}

}  // namespace
}  // namespace cppdet::data::converters
