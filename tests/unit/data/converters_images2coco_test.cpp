// images2coco: images found recursively (sorted), sizes from the files, categories from the
// class file with ids from 0, no annotations; exclusions; output path rule; error cases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "converters_test_util.h"
#include "cppdet/core/error.h"
#include "cppdet/data/converters/images_to_coco.h"
#include "support/test_support.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

TEST(ImagesToCoco, FolderWithExcludedExtension) {
  const std::string dir = cppdet::testing::fixture("converters/images");
  ImagesToCocoOptions o{dir, cppdet::testing::fixture("converters/classes.txt"), {"TXT"}, 2};
  const Json coco = images_to_coco(o);
  EXPECT_EQ(coco, Json::parse(R"({"images": [
      {"id": 0, "file_name": ")" + dir + R"(/a.jpg", "height": 30, "width": 40},
      {"id": 1, "file_name": ")" + dir + R"(/sub/b.png", "height": 32, "width": 24}],
    "type": "instance",
    "categories": [{"supercategory": "none", "id": 0, "name": "balloon"},
                   {"supercategory": "none", "id": 1, "name": "cat"}],
    "annotations": []})"));
  // Loads as COCO ground truth.
  const std::string out = cppdet::testing::make_temp_dir("img2coco") + "/test.json";
  write_json_file(out, coco);
  const evaluation::CocoGroundTruth gt = evaluation::load_coco_ground_truth(out);
  EXPECT_EQ(gt.images.size(), 2u);
  EXPECT_EQ(gt.categories.size(), 2u);
  EXPECT_TRUE(gt.annotations().empty());
}

TEST(ImagesToCoco, OutputPathFollowsImages2cocoPy) {
  EXPECT_EQ(images_to_coco_output_path("data/test_imgs", "test.json"), "data/annotations/test.json");
  EXPECT_EQ(images_to_coco_output_path("data/test_imgs", "out/test.json"), "out/test.json");
  EXPECT_THROW(images_to_coco_output_path("data", "test.txt"), UserError);
}

std::string images_error(const ImagesToCocoOptions& o) {
  return cppdet::testing::user_error_of([&] { images_to_coco(o); });
}

TEST(ImagesToCoco, BadInputsAreUserErrorsNamingTheFile) {
  const std::string dir = cppdet::testing::fixture("converters/images");
  const std::string classes = cppdet::testing::fixture("converters/classes.txt");
  // notes.txt is not an image unless excluded.
  EXPECT_NE(images_error({dir, classes, {}, 1}).find(dir + "/sub/notes.txt: cannot decode"), std::string::npos);
  const std::string empty = cppdet::testing::make_temp_dir("img2coco-empty");
  EXPECT_NE(images_error({empty, classes, {}, 1}).find(empty + ": no images found"), std::string::npos);
  EXPECT_NE(images_error({empty + "/missing", classes, {}, 1}).find("image folder not found"), std::string::npos);
  EXPECT_NE(images_error({dir, dir + "/nope.txt", {"txt"}, 1}).find(dir + "/nope.txt"), std::string::npos);
  std::ofstream(empty + "/blank.txt") << "\n\n";
  EXPECT_NE(images_error({dir, empty + "/blank.txt", {"txt"}, 1}).find("no class names"), std::string::npos);
}

}  // namespace
}  // namespace cppdet::data::converters
