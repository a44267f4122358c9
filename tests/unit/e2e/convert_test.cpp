// `cppdet convert via2coco | images2coco | cityscapes | voc` end to end: outputs written where
// MMDetection's tools write them, and bad input -> exit 2, a last line "cppdet: error: <file>: ...",
// and no output file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using testing::shell_quote;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::string last_line(const std::string& output) {
  std::string s = output;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  const size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// Exit 2 and a final line naming `what`.
void expect_error(const testing::CommandResult& r, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const std::string line = last_line(r.output);
  EXPECT_EQ(line.rfind("cppdet: error: ", 0), 0u) << r.output;
  EXPECT_NE(line.find(what), std::string::npos) << r.output;
}

// No file at all in `dir` (no partial output, no temporary left behind).
void expect_empty_dir(const std::string& dir) {
  EXPECT_TRUE(fs::is_empty(dir)) << dir << " holds " << fs::directory_iterator(dir)->path();
}

TEST(ConvertVia2Coco, WritesCocoJson) {
  const std::string via = testing::fixture("converters/via");
  const std::string out = testing::make_temp_dir("e2e-via") + "/ann/train.json";
  const auto r = testing::run_cppdet("convert via2coco " + shell_quote(via + "/via_region_data.json") + " " +
                                     shell_quote(via) + " " + shell_quote(out) + " --category balloon");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json coco = read_json(out);
  EXPECT_EQ(coco["images"].size(), 2u);
  EXPECT_EQ(coco["annotations"].size(), 5u);
  EXPECT_EQ(coco["categories"][0]["name"], "balloon");
}

TEST(ConvertVia2Coco, BalloonSplitsWhenShared) {
  const std::string shared = testing::shared_dir();
  if (shared.empty() || !fs::exists(shared + "/data/balloon/val/via_region_data.json"))
    GTEST_SKIP() << "../shared/data/balloon not present";
  const std::string dir = testing::make_temp_dir("e2e-balloon");
  for (const char* split : {"train", "val"}) {
    const std::string src = shared + "/data/balloon/" + split;
    const std::string out = dir + "/" + split + ".json";
    const auto r = testing::run_cppdet("convert via2coco " + shell_quote(src + "/via_region_data.json") + " " +
                                       shell_quote(src) + " " + shell_quote(out) + " --nproc 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(read_json(out)["images"].size(), std::string(split) == "train" ? 61u : 13u);
  }
}

TEST(ConvertVia2Coco, BadInputLeavesNoFile) {
  const std::string via = testing::fixture("converters/via");
  const std::string tmp = testing::make_temp_dir("e2e-via-bad");
  const std::string out_dir = testing::make_temp_dir("e2e-via-bad-out");
  std::ofstream(tmp + "/bad.json") << "{\"x\": [1, 2";
  expect_error(testing::run_cppdet("convert via2coco " + shell_quote(tmp + "/bad.json") + " " + shell_quote(via) + " " +
                                   shell_quote(out_dir + "/o.json")),
               tmp + "/bad.json: invalid JSON");
  // The second image is missing: the first one was read, still no output.
  std::ofstream(tmp + "/missing.json") << R"({"a": {"filename": "img_a.jpg", "regions": {}},
                                               "b": {"filename": "gone.jpg", "regions": {}}})";
  expect_error(testing::run_cppdet("convert via2coco " + shell_quote(tmp + "/missing.json") + " " + shell_quote(via) +
                                   " " + shell_quote(out_dir + "/o.json")),
               via + "/gone.jpg: image file not found");
  expect_empty_dir(out_dir);
}

TEST(ConvertImages2Coco, BareNameGoesToAnnotationsFolder) {
  const std::string root = testing::make_temp_dir("e2e-img2coco");
  fs::copy(testing::fixture("converters/images"), root + "/images", fs::copy_options::recursive);
  const auto r = testing::run_cppdet("convert images2coco " + shell_quote(root + "/images") + " " +
                                     shell_quote(testing::fixture("converters/classes.txt")) + " test.json -e txt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json coco = read_json(root + "/annotations/test.json");
  EXPECT_EQ(coco["images"].size(), 2u);
  EXPECT_EQ(coco["categories"].size(), 2u);
  EXPECT_TRUE(coco["annotations"].empty());
}

TEST(ConvertImages2Coco, EmptyFolderAndUndecodableFile) {
  const std::string empty = testing::make_temp_dir("e2e-img2coco-empty");
  const std::string out_dir = testing::make_temp_dir("e2e-img2coco-out");
  const std::string classes = testing::fixture("converters/classes.txt");
  expect_error(testing::run_cppdet("convert images2coco " + shell_quote(empty) + " " + shell_quote(classes) + " " +
                                   shell_quote(out_dir + "/t.json")),
               empty + ": no images found");
  const std::string images = testing::fixture("converters/images");
  expect_error(testing::run_cppdet("convert images2coco " + shell_quote(images) + " " + shell_quote(classes) + " " +
                                   shell_quote(out_dir + "/t.json")),
               images + "/sub/notes.txt: cannot decode");
  expect_empty_dir(out_dir);
}

TEST(ConvertVoc, WritesEveryDatasetOfTheDevkit) {
  const std::string out = testing::make_temp_dir("e2e-voc");
  const auto r = testing::run_cppdet("convert voc " + shell_quote(testing::fixture("converters/voc/VOCdevkit")) +
                                     " --out-dir " + shell_quote(out) + " --out-format coco");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"voc07_train", "voc07_val", "voc07_trainval", "voc07_test", "voc12_train", "voc12_trainval",
                           "voc0712_train", "voc0712_trainval"})
    EXPECT_TRUE(fs::exists(out + "/" + name + ".json")) << name;
  EXPECT_FALSE(fs::exists(out + "/voc12_val.json"));
  EXPECT_NE(r.output.find("skip voc12_val"), std::string::npos) << r.output;
  EXPECT_EQ(read_json(out + "/voc07_trainval.json")["annotations"].size(), 5u);
}

TEST(ConvertVoc, MalformedXmlWritesNothing) {
  const std::string root = testing::make_temp_dir("e2e-voc-bad");
  fs::copy(testing::fixture("converters/voc/VOCdevkit"), root + "/VOCdevkit", fs::copy_options::recursive);
  const std::string xml = root + "/VOCdevkit/VOC2012/Annotations/000001.xml";
  fs::permissions(xml, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(xml) << "<annotation><size>";
  const std::string out = testing::make_temp_dir("e2e-voc-bad-out");
  expect_error(testing::run_cppdet("convert voc " + shell_quote(root + "/VOCdevkit") + " -o " + shell_quote(out)),
               xml + ": malformed XML");
  expect_empty_dir(out);  // the VOC2007 datasets converted before the error are not written either
}

TEST(ConvertCityscapes, WritesValSplit) {
  const std::string out = testing::make_temp_dir("e2e-cs");
  const auto r = testing::run_cppdet("convert cityscapes " + shell_quote(testing::fixture("converters/cityscapes")) +
                                     " --out-dir " + shell_quote(out) + " --nproc 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json coco = read_json(out + "/instancesonly_filtered_gtFine_val.json");
  EXPECT_EQ(coco["annotations"].size(), 7u);
  EXPECT_EQ(coco["categories"].size(), 8u);
  EXPECT_FALSE(fs::exists(out + "/instancesonly_filtered_gtFine_train.json"));
}

TEST(ConvertCityscapes, MissingInstanceMapWritesNothing) {
  const std::string root = testing::make_temp_dir("e2e-cs-bad");
  fs::create_directories(root + "/leftImg8bit/val/city");
  std::ofstream(root + "/leftImg8bit/val/city/city_000000_000001_leftImg8bit.png") << "x";
  const std::string out = testing::make_temp_dir("e2e-cs-bad-out");
  expect_error(testing::run_cppdet("convert cityscapes " + shell_quote(root) + " -o " + shell_quote(out)),
               root + "/gtFine/val/city/city_000000_000001_gtFine_instanceIds.png: instance-id map not found");
  expect_empty_dir(out);
}

}  // namespace
}  // namespace cppdet
