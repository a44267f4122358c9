// `cppdet print-config` against mmcv's merges of the shipped configs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using OrderedJson = nlohmann::ordered_json;
using cppdet::testing::fixture;
using cppdet::testing::read_text;
using cppdet::testing::run_cppdet;
using cppdet::testing::shell_quote;
using cppdet::testing::shipped_configs;
using cppdet::testing::source_dir;

// Canonical text of a JSON document: key order kept, 1 and 1.0 written differently.
std::string canonical(const std::string& json_text) { return OrderedJson::parse(json_text).dump(1); }

TEST(PrintConfig, OrderedJsonEqualsMmcvMerge) {
  for (const auto& [name, relative] : shipped_configs()) {
    auto r = run_cppdet("print-config " + shell_quote(source_dir() + "/configs/" + relative) + " --format json");
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_EQ(canonical(r.output), canonical(read_text(fixture("configs/visible/" + name + ".json")))) << name;
  }
}

TEST(PrintConfig, PrettyTextFilesReadBack) {
  for (const auto& [name, relative] : shipped_configs()) {
    auto r = run_cppdet("print-config " + shell_quote(fixture("configs/visible/" + name + ".txt")) + " --format json");
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_EQ(canonical(r.output), canonical(read_text(fixture("configs/visible/" + name + ".json")))) << name;
  }
}

TEST(PrintConfig, PythonOutputReadsBack) {
  std::string dir = cppdet::testing::make_temp_dir("print_config");
  std::string config = source_dir() + "/configs/mask_rcnn/mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco.py";
  auto py = run_cppdet("print-config " + shell_quote(config));
  ASSERT_EQ(py.exit_code, 0) << py.output;
  std::ofstream((fs::path(dir) / "dumped.py").string()) << py.output;
  auto again = run_cppdet("print-config " + shell_quote((fs::path(dir) / "dumped.py").string()) + " --format json");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(canonical(again.output),
            canonical(read_text(fixture("configs/visible/mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco.json"))));
}

TEST(PrintConfig, CfgOptions) {
  std::string config = source_dir() + "/configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py";
  auto r = run_cppdet("print-config " + shell_quote(config) +
                      " --format json --cfg-options model.roi_head.bbox_head.num_classes=3 " +
                      shell_quote("data.train.pipeline.2.img_scale=(1000,600)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  OrderedJson j = OrderedJson::parse(r.output);
  EXPECT_EQ(j["model"]["roi_head"]["bbox_head"]["num_classes"], 3);
  EXPECT_EQ(j["data"]["train"]["pipeline"][2]["img_scale"].dump(), "{\"__tuple__\":[1000,600]}");
}

TEST(PrintConfig, ErrorsExitTwoWithLocation) {
  std::string dir = cppdet::testing::make_temp_dir("print_config_err");
  std::string bad = (fs::path(dir) / "bad.py").string();
  std::ofstream(bad) << "x = 1\nimport os\n";
  auto r = run_cppdet("print-config " + shell_quote(bad));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cppdet: error: " + bad + ":2:1: unsupported construct: 'import' statement"), std::string::npos)
      << r.output;
  std::string config = source_dir() + "/configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py";
  auto idx = run_cppdet("print-config " + shell_quote(config) + " --cfg-options data.train.pipeline.10.type=Foo");
  EXPECT_EQ(idx.exit_code, 2);
  EXPECT_NE(idx.output.find("--cfg-options data.train.pipeline.10: Index 10 exceeds the length of list"), std::string::npos)
      << idx.output;
}

}  // namespace
}  // namespace cppdet
