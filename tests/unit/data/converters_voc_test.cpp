// voc: pascal_voc.py's COCO output on a tiny devkit fixture (and the mmdet tests' sample when
// ../shared is present): datasets per year/split, the -1 box offset, difficult -> iscrowd,
// loading and self-evaluation with the COCO tools, and error cases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "converters_test_util.h"
#include "cppdet/core/error.h"
#include "cppdet/data/converters/voc_to_coco.h"
#include "support/test_support.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const Json& dataset(const std::vector<VocDataset>& all, const std::string& name) {
  for (const VocDataset& d : all)
    if (d.name == name) return d.coco;
  throw std::runtime_error("no dataset " + name);
}

std::vector<std::string> names(const std::vector<VocDataset>& all) {
  std::vector<std::string> out;
  for (const VocDataset& d : all) out.push_back(d.name);
  return out;
}

TEST(VocToCoco, FixtureDatasetsBoxesAndDifficult) {
  std::vector<std::string> notes;
  const auto all = voc_to_coco(cppdet::testing::fixture("converters/voc/VOCdevkit"), &notes);
  EXPECT_EQ(names(all), (std::vector<std::string>{"voc07_train", "voc07_val", "voc07_trainval", "voc07_test",
                                                  "voc12_train", "voc12_trainval", "voc0712_train", "voc0712_trainval"}));
  ASSERT_EQ(notes.size(), 3u);  // voc12_val, voc12_test, voc0712_val
  EXPECT_NE(notes[0].find("skip voc12_val"), std::string::npos) << notes[0];

  const Json& tv = dataset(all, "voc07_trainval");
  EXPECT_EQ(tv["type"], "instance");
  ASSERT_EQ(tv["categories"].size(), 20u);
  EXPECT_EQ(tv["categories"][0], Json::parse(R"({"supercategory": "none", "id": 0, "name": "aeroplane"})"));
  EXPECT_EQ(tv["categories"][19]["name"], "tvmonitor");
  EXPECT_EQ(tv["images"], Json::parse(R"([
      {"id": 0, "file_name": "VOC2007/JPEGImages/000001.jpg", "height": 500, "width": 353},
      {"id": 1, "file_name": "VOC2007/JPEGImages/000002.jpg", "height": 80, "width": 120}])"));
  // XML corners minus 1; per image the non-difficult objects first, then the difficult ones.
  EXPECT_EQ(tv["annotations"], Json::parse(R"([
      {"segmentation": [[47, 239, 47, 370, 194, 370, 194, 239]], "area": 19257, "ignore": 0, "iscrowd": 0,
       "image_id": 0, "bbox": [47, 239, 147, 131], "category_id": 11, "id": 0},
      {"segmentation": [[7, 11, 7, 497, 351, 497, 351, 11]], "area": 167184, "ignore": 0, "iscrowd": 0,
       "image_id": 0, "bbox": [7, 11, 344, 486], "category_id": 14, "id": 1},
      {"segmentation": [[59, 4, 59, 44, 109, 44, 109, 4]], "area": 2000, "ignore": 0, "iscrowd": 0,
       "image_id": 1, "bbox": [59, 4, 50, 40], "category_id": 19, "id": 2},
      {"segmentation": [[1, 1, 1, 11, 8, 11, 8, 1]], "area": 70, "ignore": 0, "iscrowd": 0,
       "image_id": 1, "bbox": [1, 1, 7, 10], "category_id": 2, "id": 3},
      {"segmentation": [[10, 20, 10, 60, 50, 60, 50, 20]], "area": 1600, "ignore": 0, "iscrowd": 1,
       "image_id": 1, "bbox": [10, 20, 40, 40], "category_id": 7, "id": 4}])"));
  const Json& both = dataset(all, "voc0712_train");
  ASSERT_EQ(both["images"].size(), 2u);
  EXPECT_EQ(both["images"][1]["file_name"], "VOC2012/JPEGImages/000001.jpg");
  EXPECT_EQ(both["annotations"][2]["id"], 2);  // ids continue across years
  EXPECT_EQ(both["annotations"][2]["image_id"], 1);
}

TEST(VocToCoco, ConvertedJsonLoadsAndEvaluatesToApOne) {
  const auto all = voc_to_coco(cppdet::testing::fixture("converters/voc/VOCdevkit"));
  const std::string out = cppdet::testing::make_temp_dir("voc-eval") + "/voc07_trainval.json";
  write_json_file(out, dataset(all, "voc07_trainval"));
  const evaluation::CocoGroundTruth gt = evaluation::load_coco_ground_truth(out);
  EXPECT_EQ(gt.images.size(), 2u);
  EXPECT_EQ(gt.annotations().size(), 5u);
  EXPECT_TRUE(gt.annotations()[4].iscrowd);
  EXPECT_DOUBLE_EQ(testing::self_evaluation_ap(out, evaluation::IouType::kBbox), 1.0);
  EXPECT_DOUBLE_EQ(testing::self_evaluation_ap(out, evaluation::IouType::kSegm), 1.0);
  // As written (ids from 0), pycocotools never matches annotation 0 (the dog): its category
  // gets AP 0 and the mean over the 4 categories is 0.75, as with MMDetection's own files.
  EXPECT_NEAR(testing::self_evaluation_ap(out, evaluation::IouType::kBbox, /*shift_ids=*/false), 0.75, 1e-12);
}

TEST(VocToCoco, SharedMmdetSample) {
  const std::string shared = cppdet::testing::shared_dir();
  const std::string devkit = shared + "/data/mmdet_tests_data/mmdet2.16/VOCdevkit";
  if (shared.empty() || !fs::exists(devkit)) GTEST_SKIP() << "../shared/data/mmdet_tests_data not present";
  const auto all = voc_to_coco(devkit);
  EXPECT_EQ(names(all), (std::vector<std::string>{"voc07_trainval", "voc07_test", "voc12_trainval", "voc12_test",
                                                  "voc0712_trainval"}));
  const Json& voc07 = dataset(all, "voc07_test");
  ASSERT_EQ(voc07["annotations"].size(), 2u);
  EXPECT_EQ(voc07["annotations"][0]["bbox"], Json::parse("[47, 239, 147, 131]"));
}

std::string voc_error(const std::string& devkit) {
  return cppdet::testing::user_error_of([&] { voc_to_coco(devkit); });
}

TEST(VocToCoco, BadInputsAreUserErrorsNamingTheFile) {
  const std::string tmp = cppdet::testing::make_temp_dir("voc-bad");
  fs::copy(cppdet::testing::fixture("converters/voc/VOCdevkit"), tmp + "/VOCdevkit", fs::copy_options::recursive);
  const std::string xml = tmp + "/VOCdevkit/VOC2007/Annotations/000002.xml";
  fs::permissions(xml, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(xml) << "<annotation><size><width>1</width>";
  EXPECT_NE(voc_error(tmp + "/VOCdevkit").find(xml + ": malformed XML"), std::string::npos) << voc_error(tmp + "/VOCdevkit");
  std::ofstream(xml) << "<annotation><size><width>9</width><height>9</height></size><object><name>unicorn</name>"
                        "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>";
  EXPECT_NE(voc_error(tmp + "/VOCdevkit").find("unknown VOC class \"unicorn\""), std::string::npos);
  fs::remove(xml);
  EXPECT_NE(voc_error(tmp + "/VOCdevkit").find(xml + ": annotation file not found"), std::string::npos);
  fs::create_directories(tmp + "/empty");
  EXPECT_NE(voc_error(tmp + "/empty").find("neither"), std::string::npos);
}

}  // namespace
}  // namespace cppdet::data::converters
