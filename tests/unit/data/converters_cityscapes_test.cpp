// cityscapes: instance maps -> COCO with RLE masks, checked pixel by pixel against the maps
// (the real 1-frame sample in the fixtures, and a synthetic split with crowd and ignored
// classes), loading + self-evaluation, multi-threading, and error cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "converters_test_util.h"
#include "cppdet/core/error.h"
#include "cppdet/data/converters/cityscapes_to_coco.h"
#include "cppdet/evaluation/mask_rle.h"
#include "support/test_support.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const int kEvaluated[] = {24, 25, 26, 27, 28, 31, 32, 33};

// Every annotation of `coco` matches the pixels of its instance map, and every evaluated
// instance of the map has an annotation.
void expect_matches_maps(const Json& coco, const std::string& gt_split_dir) {
  for (const Json& img : coco["images"]) {
    const std::string name = img["file_name"].get<std::string>();
    const std::string stem = name.substr(0, name.size() - std::string("leftImg8bit.png").size());
    const cv::Mat map = cv::imread(gt_split_dir + "/" + stem + "gtFine_instanceIds.png", cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(map.empty()) << stem;
    cv::Mat ids;
    map.convertTo(ids, CV_32S);
    EXPECT_EQ(img["height"], ids.rows);
    EXPECT_EQ(img["width"], ids.cols);
    EXPECT_EQ(img["segm_file"], stem + "gtFine_labelIds.png");
    std::set<int> expected_ids;
    for (int y = 0; y < ids.rows; ++y)
      for (int x = 0; x < ids.cols; ++x) {
        const int v = ids.at<int>(y, x);
        const int label = v >= 1000 ? v / 1000 : v;
        if (v >= 24 && std::count(std::begin(kEvaluated), std::end(kEvaluated), label)) expected_ids.insert(v);
      }
    size_t found = 0;
    if (!coco.contains("annotations")) {
      EXPECT_TRUE(expected_ids.empty());
      continue;
    }
    for (const Json& a : coco["annotations"]) {
      if (a["image_id"] != img["id"]) continue;
      ++found;
      const Json& seg = a["segmentation"];
      const evaluation::Rle rle = evaluation::rle_from_string(seg["counts"].get<std::string>(), seg["size"][0].get<uint32_t>(),
                                                                 seg["size"][1].get<uint32_t>());
      const std::vector<uint8_t> mask = evaluation::rle_decode(rle);  // column-major
      int v = -1, x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1, area = 0;
      for (int x = 0; x < ids.cols; ++x)
        for (int y = 0; y < ids.rows; ++y)
          if (mask[static_cast<size_t>(x) * ids.rows + y]) {
            if (v < 0) v = ids.at<int>(y, x);
            EXPECT_EQ(ids.at<int>(y, x), v);
            x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y), ++area;
          }
      ASSERT_GE(v, 24);
      EXPECT_TRUE(expected_ids.erase(v)) << "instance " << v << " twice or not expected";
      int count = 0;  // the mask holds every pixel of that instance
      for (int y = 0; y < ids.rows; ++y)
        for (int x = 0; x < ids.cols; ++x) count += ids.at<int>(y, x) == v;
      EXPECT_EQ(area, count);
      EXPECT_EQ(a["area"], area);
      EXPECT_EQ(a["bbox"], Json::array({double(x0), double(y0), double(x1 - x0 + 1), double(y1 - y0 + 1)}));
      EXPECT_EQ(a["category_id"], v >= 1000 ? v / 1000 : v);
      EXPECT_EQ(a["iscrowd"], v < 1000 ? 1 : 0);
    }
    EXPECT_TRUE(expected_ids.empty()) << stem;
    (void)found;
  }
}

void write_map(const std::string& path, const cv::Mat& map) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_TRUE(cv::imwrite(path, map));
}

// A train split of two frames: cars, a person crowd region (id 24 < 1000), a caravan (ignored),
// stuff, and a bicycle; the second frame has only stuff.
std::string synthetic_cityscapes() {
  const std::string root = cppdet::testing::make_temp_dir("cityscapes");
  cv::Mat a(12, 16, CV_16U, cv::Scalar(7));
  a(cv::Rect(1, 1, 4, 3)) = 26001;
  a(cv::Rect(6, 2, 3, 5)) = 26002;
  a(cv::Rect(10, 0, 6, 4)) = 24;
  a(cv::Rect(0, 8, 5, 4)) = 29000;
  a(cv::Rect(9, 7, 2, 5)) = 33000;
  cv::Mat b(12, 16, CV_16U, cv::Scalar(21));
  for (const char* stem : {"aachen_000000_000019_", "aachen_000001_000019_"}) {
    write_map(root + "/leftImg8bit/train/aachen/" + stem + "leftImg8bit.png", cv::Mat(12, 16, CV_8UC3, cv::Scalar(90, 90, 90)));
    write_map(root + "/gtFine/train/aachen/" + stem + "gtFine_instanceIds.png", std::string(stem) == "aachen_000000_000019_" ? a : b);
  }
  return root;
}

TEST(CityscapesToCoco, RealSampleMatchesTheInstanceMap) {
  std::vector<std::string> notes;
  const std::string root = cppdet::testing::fixture("converters/cityscapes");
  const auto splits = cityscapes_to_coco({root, "leftImg8bit", "gtFine", 2}, &notes);
  ASSERT_EQ(splits.size(), 1u);
  EXPECT_EQ(notes.size(), 2u);  // train and test are absent
  EXPECT_EQ(splits[0].json_name, "instancesonly_filtered_gtFine_val.json");
  const Json& coco = splits[0].coco;
  ASSERT_EQ(coco["images"].size(), 1u);
  EXPECT_EQ(coco["images"][0]["file_name"], "frankfurt/frankfurt_000000_000294_leftImg8bit.png");
  EXPECT_EQ(coco["images"][0]["id"], 0);
  EXPECT_EQ(coco["annotations"].size(), 7u);  // 24000..24003, 26000..26002
  EXPECT_EQ(coco["categories"], Json::parse(R"([{"id": 24, "name": "person"}, {"id": 25, "name": "rider"},
      {"id": 26, "name": "car"}, {"id": 27, "name": "truck"}, {"id": 28, "name": "bus"}, {"id": 31, "name": "train"},
      {"id": 32, "name": "motorcycle"}, {"id": 33, "name": "bicycle"}])"));
  expect_matches_maps(coco, root + "/gtFine/val");
  const std::string out = cppdet::testing::make_temp_dir("cs-eval") + "/val.json";
  write_json_file(out, coco);
  EXPECT_DOUBLE_EQ(testing::self_evaluation_ap(out, evaluation::IouType::kSegm), 1.0);
  EXPECT_DOUBLE_EQ(testing::self_evaluation_ap(out, evaluation::IouType::kBbox), 1.0);
}

TEST(CityscapesToCoco, CrowdIgnoredClassesAndThreads) {
  const std::string root = synthetic_cityscapes();
  const auto one = cityscapes_to_coco({root, "leftImg8bit", "gtFine", 1});
  const auto four = cityscapes_to_coco({root, "leftImg8bit", "gtFine", 4});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].coco, four[0].coco);
  const Json& coco = one[0].coco;
  ASSERT_EQ(coco["annotations"].size(), 4u);  // person crowd 24, cars 26001/26002, bicycle 33000
  EXPECT_EQ(coco["annotations"][0]["category_id"], 24);
  EXPECT_EQ(coco["annotations"][0]["iscrowd"], 1);
  EXPECT_EQ(coco["annotations"][0]["bbox"], Json::parse("[10.0, 0.0, 6.0, 4.0]"));
  EXPECT_EQ(coco["annotations"][0]["area"], 24);
  EXPECT_EQ(coco["annotations"][1]["iscrowd"], 0);
  EXPECT_EQ(coco["annotations"][3]["category_id"], 33);
  EXPECT_EQ(coco["annotations"][3]["id"], 3);
  EXPECT_EQ(coco["images"][1]["file_name"], "aachen/aachen_000001_000019_leftImg8bit.png");
  expect_matches_maps(coco, root + "/gtFine/train");
  const std::string out = root + "/train.json";
  write_json_file(out, coco);
  EXPECT_DOUBLE_EQ(testing::self_evaluation_ap(out, evaluation::IouType::kSegm), 1.0);
}

TEST(CityscapesToCoco, SplitWithoutInstancesHasNoAnnotationsKey) {
  const std::string root = cppdet::testing::make_temp_dir("cs-stuff");
  write_map(root + "/leftImg8bit/test/bonn/bonn_000000_000019_leftImg8bit.png", cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)));
  write_map(root + "/gtFine/test/bonn/bonn_000000_000019_gtFine_instanceIds.png", cv::Mat(4, 4, CV_16U, cv::Scalar(0)));
  const auto splits = cityscapes_to_coco({root, "leftImg8bit", "gtFine", 1});
  ASSERT_EQ(splits.size(), 1u);
  EXPECT_FALSE(splits[0].coco.contains("annotations"));
  const std::string out = root + "/test.json";
  write_json_file(out, splits[0].coco);
  EXPECT_EQ(evaluation::load_coco_ground_truth(out).images.size(), 1u);
}

std::string cityscapes_error(const std::string& root) {
  return cppdet::testing::user_error_of([&] { cityscapes_to_coco({root, "leftImg8bit", "gtFine", 2}); });
}

TEST(CityscapesToCoco, BadInputsAreUserErrorsNamingTheFile) {
  const std::string root = synthetic_cityscapes();
  const std::string map = root + "/gtFine/train/aachen/aachen_000001_000019_gtFine_instanceIds.png";
  std::ofstream(map) << "not a png";
  EXPECT_NE(cityscapes_error(root).find(map + ": cannot decode"), std::string::npos) << cityscapes_error(root);
  fs::remove(map);
  EXPECT_NE(cityscapes_error(root).find(map + ": instance-id map not found"), std::string::npos);
  cv::Mat unknown(4, 4, CV_16U, cv::Scalar(40000));  // label 40 does not exist
  write_map(map, unknown);
  EXPECT_NE(cityscapes_error(root).find("instance id 40000 has no Cityscapes label"), std::string::npos);
  const std::string empty = cppdet::testing::make_temp_dir("cs-empty");
  fs::create_directories(empty + "/leftImg8bit/val/city");
  EXPECT_NE(cityscapes_error(empty).find("no images found"), std::string::npos);
  fs::remove_all(empty + "/leftImg8bit/val");
  EXPECT_NE(cityscapes_error(empty).find("none of the split folders"), std::string::npos);
  EXPECT_NE(cityscapes_error(empty + "/nope").find("image folder not found"), std::string::npos);
}

}  // namespace
}  // namespace cppdet::data::converters
