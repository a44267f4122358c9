// --cfg-options against mmcv 1.6's DictAction + merge_from_dict on every recorded case.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "strict_equal.h"
#include "support/test_support.h"

namespace cppdet::config {
namespace {

using Json = nlohmann::ordered_json;
using testing::first_difference;

const Json& cases() {
  static const Json j = [] {
    std::ifstream in(cppdet::testing::fixture("configs/cfg_options_cases.json"));
    return Json::parse(in);
  }();
  return j;
}

// A JSON fragment of the oracle file (tagged encoding) as a value.
Value tagged(const Json& j) { return value_from_tagged_json(j.dump()); }

// mmcv's message as stored: KeyError's str() adds quotes around it.
std::string mmcv_message(const Json& error) {
  std::string m = error.at("message").get<std::string>();
  if (error.at("type") == "KeyError" && m.size() >= 2 && m.front() == '"' && m.back() == '"') m = m.substr(1, m.size() - 2);
  return m;
}

TEST(CfgOptions, ValueParsingMatchesDictAction) {
  size_t checked = 0;
  for (const Json& c : cases().at("value_parsing")) {
    std::string input = c.at("input").get<std::string>();
    SCOPED_TRACE("input: " + input);
    if (c.contains("error")) {
      try {
        parse_cfg_options({"k=" + input});
        ADD_FAILURE() << "no error";
      } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(mmcv_message(c.at("error"))), std::string::npos) << e.what();
      }
    } else {
      Dict parsed = parse_cfg_options({"k=" + input});
      EXPECT_EQ(first_difference(parsed.at("k"), tagged(c.at("output"))), "");
    }
    ++checked;
  }
  EXPECT_EQ(checked, 61u);
}

TEST(CfgOptions, MergeCasesMatchMmcv) {
  size_t checked = 0;
  for (const Json& c : cases().at("cases")) {
    std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    std::vector<std::string> argv = c.at("argv").get<std::vector<std::string>>();
    Dict parsed = parse_cfg_options(argv);
    EXPECT_EQ(first_difference(Value(parsed), tagged(c.at("parsed"))), "");
    std::string config = cppdet::testing::source_dir() + "/configs/" + c.at("config").get<std::string>();
    if (c.contains("error")) {
      try {
        load_config(config, argv);
        ADD_FAILURE() << "no error";
      } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(mmcv_message(c.at("error"))), std::string::npos) << e.what();
      }
    } else {
      EXPECT_EQ(first_difference(load_config(config, argv), tagged(c.at("result"))), "");
    }
    ++checked;
  }
  EXPECT_EQ(checked, 13u);
}

TEST(CfgOptions, ErrorsNameTheKey) {
  std::string config = cppdet::testing::source_dir() + "/configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py";
  auto error_of = [&](const std::vector<std::string>& options) {
    try {
      load_config(config, options);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  // Index past the end of a list.
  EXPECT_EQ(error_of({"data.train.pipeline.10.type=Foo"}).rfind("--cfg-options data.train.pipeline.10: Index 10 exceeds the length of list [{'type': 'LoadImageFromFile'}, ", 0), 0u);
  // A key under a non-dict value.
  EXPECT_EQ(error_of({"model.backbone.depth.x=1"}),
            "--cfg-options model.backbone.depth: depth={'x': 1} in child config cannot inherit from base because depth "
            "is a dict in the child config but is of type <class 'int'> in base config. You may set `_delete_=True` "
            "to ignore the base config.");
  EXPECT_EQ(error_of({"no_equals_sign"}), "--cfg-options: expected KEY=VALUE, got 'no_equals_sign'");
  EXPECT_EQ(error_of({"a=1", "a.b=2"}), "--cfg-options a.b: 'a' is also given a non-dict value by another option");
}

}  // namespace
}  // namespace cppdet::config
