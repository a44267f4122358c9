// load_config on the shipped configs against mmcv's merges (the oracle), _base_ rules, and
// the errors of file loading.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "strict_equal.h"
#include "support/test_support.h"

namespace cppdet::config {
namespace {

namespace fs = std::filesystem;
using testing::first_difference;

using cppdet::testing::read_text;
using cppdet::testing::shipped_configs;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(ShippedConfigs, EveryOracleConfigIsShipped) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(cppdet::testing::fixture("configs/visible"))) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    EXPECT_TRUE(shipped_configs().count(entry.path().stem().string())) << entry.path();
  }
  EXPECT_EQ(count, shipped_configs().size());
}

TEST(ShippedConfigs, MergeEqualsMmcv) {
  for (const auto& [name, relative] : shipped_configs()) {
    Value want = value_from_tagged_json(read_text(cppdet::testing::fixture("configs/visible/" + name + ".json")));
    Value got = load_config(cppdet::testing::source_dir() + "/configs/" + relative);
    EXPECT_EQ(first_difference(got, want), "") << name;
  }
}

// Configs whose mmcv merge the oracle has only as pretty_text (configs/all/<folder>__<name>.py).
TEST(ShippedConfigs, CascadeMergeEqualsMmcvPrettyText) {
  for (const char* name : {"cascade_rcnn_r50_fpn_1x_coco", "cascade_mask_rcnn_r50_fpn_1x_coco"}) {
    Value want = load_config(cppdet::testing::fixture(std::string("configs/all/cascade_rcnn__") + name + ".py"));
    Value got = load_config(cppdet::testing::source_dir() + "/configs/cascade_rcnn/" + name + ".py");
    EXPECT_EQ(first_difference(got, want), "") << name;
  }
}

TEST(ShippedConfigs, PrettyTextReadsBackAsTheJson) {
  for (const auto& [name, relative] : shipped_configs()) {
    Value want = value_from_tagged_json(read_text(cppdet::testing::fixture("configs/visible/" + name + ".json")));
    Value got = load_config(cppdet::testing::fixture("configs/visible/" + name + ".txt"));
    EXPECT_EQ(first_difference(got, want), "") << name;
  }
}

TEST(ShippedConfigs, OracleCaseConfigsRead) {
  for (const char* name : {"faster_tiny_r18_caffe", "faster_tiny_r50", "mask_tiny_r50"}) {
    Value cfg = load_config(cppdet::testing::fixture(std::string("oracle_cases/") + name + "/config.py"));
    EXPECT_TRUE(cfg.as_dict().contains("model")) << name;
    EXPECT_TRUE(cfg.as_dict().contains("data")) << name;
  }
}

TEST(ShippedConfigs, DumpsReadBackIdentically) {
  std::string dir = cppdet::testing::make_temp_dir("config_dump");
  for (const auto& [name, relative] : shipped_configs()) {
    Value cfg = load_config(cppdet::testing::source_dir() + "/configs/" + relative);
    EXPECT_EQ(first_difference(value_from_tagged_json(dump_json(cfg)), cfg), "") << name;
    EXPECT_EQ(first_difference(parse_config_text(dump_python(cfg), name + ".py"), cfg), "") << name;
    write_text(fs::path(dir) / (name + ".py"), dump_python(cfg));
    EXPECT_EQ(first_difference(load_config((fs::path(dir) / (name + ".py")).string()), cfg), "") << name;
  }
}

class BaseFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fs::path(cppdet::testing::make_temp_dir("config_base")); }
  std::string file(const std::string& name, const std::string& text) {
    write_text(dir_ / name, text);
    return (dir_ / name).string();
  }
  std::string error_of(const std::string& path, const std::vector<std::string>& options = {}) {
    try {
      load_config(path, options);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }
  fs::path dir_;
};

TEST_F(BaseFiles, MergeRules) {
  file("base/a.py", "model = dict(x=1, sub=dict(p=1, q=2), lst=[1, 2], rep=dict(k=1))\nopt = dict(lr=0.1)\n");
  file("base/b.py", "runner = dict(type='EpochBasedRunner', max_epochs=12)\nvar = 5\n");
  std::string child = file("child.py",
                           "_base_ = ['base/a.py', './base/b.py']\n"
                           "model = dict(sub=dict(q=3, r=4), lst=[9], rep=dict(_delete_=True, z=0), new=dict(_delete_=True))\n"
                           "runner = dict(_delete_=True, type='IterBasedRunner', max_iters=10)\n"
                           "extra = 1\n");
  Value want = value_from_tagged_json(R"({
    "model": {"x": 1, "sub": {"p": 1, "q": 3, "r": 4}, "lst": [9], "rep": {"z": 0}, "new": {"_delete_": true}},
    "opt": {"lr": 0.1},
    "runner": {"type": "IterBasedRunner", "max_iters": 10},
    "var": 5,
    "extra": 1})");
  EXPECT_EQ(first_difference(load_config(child), want), "");
}

TEST_F(BaseFiles, ChildCannotSeeBaseVariables) {
  file("base.py", "data_root = 'x/'\n");
  std::string child = file("child.py", "_base_ = 'base.py'\nann = data_root + 'a.json'\n");
  EXPECT_NE(error_of(child).find("child.py:2:7: name 'data_root' is not defined"), std::string::npos) << error_of(child);
}

TEST_F(BaseFiles, BaseReferencesAndPredefinedVariables) {
  file("base.py", "model = dict(depth=50, sizes=(1, 2))\nitems = [1, 2]\n");
  std::string child = file("sub/child.py",
                           "_base_ = '../base.py'\n"
                           "depth = {{ _base_.model.depth }}\n"
                           "wrapped = dict(s={{_base_.model.sizes}}, i={{_base_.items}})\n"
                           "here = '{{ fileDirname }}/{{ fileBasenameNoExtension }}{{ fileExtname }}'\n"
                           "name = '{{fileBasename}}'\n");
  Value cfg = load_config(child);
  EXPECT_EQ(first_difference(cfg.as_dict().at("depth"), Value(50)), "");
  EXPECT_EQ(first_difference(cfg.as_dict().at("wrapped"),
                             value_from_tagged_json(R"({"s": {"__tuple__": [1, 2]}, "i": [1, 2]})")),
            "");
  EXPECT_EQ(cfg.as_dict().at("here").as_string(), fs::absolute(dir_ / "sub").lexically_normal().string() + "/child.py");
  EXPECT_EQ(cfg.as_dict().at("name").as_string(), "child.py");
  std::string bad = file("bad.py", "_base_ = 'base.py'\nx = {{ _base_.model.nope }}\n");
  EXPECT_NE(error_of(bad).find("{{_base_.model.nope}}: no key 'nope' in the base config"), std::string::npos) << error_of(bad);
}

TEST_F(BaseFiles, JsonAndYamlBases) {
  file("base.json", R"({"model": {"a": 1, "b": [1, 2]}, "lr": 0.5})");
  file("mid.yaml", "_base_: base.json\nmodel:\n  b: [3]\n  c: x\n");
  std::string child = file("child.py", "_base_ = 'mid.yaml'\nlr = 1\n");
  EXPECT_EQ(first_difference(load_config(child),
                             value_from_tagged_json(R"({"model": {"a": 1, "b": [3], "c": "x"}, "lr": 1})")),
            "");
}

TEST_F(BaseFiles, BadBasePath) {
  std::string child = file("child.py", "x = 1\n_base_ = ['missing.py']\n");
  EXPECT_EQ(error_of(child), child + ":2:10: _base_ file 'missing.py' does not exist (looked for " +
                                 (dir_ / "missing.py").string() + ")");
  std::string bad_type = file("bad_type.py", "_base_ = 3\n");
  EXPECT_EQ(error_of(bad_type), bad_type + ":1:10: _base_ must be a str or a list of str, got int");
  EXPECT_EQ(error_of((dir_ / "nope.py").string()), (dir_ / "nope.py").string() + ": config file does not exist");
}

TEST_F(BaseFiles, DuplicateKeyAmongBases) {
  file("a.py", "x = 1\ny = 2\n");
  file("b.py", "y = 3\n");
  std::string child = file("child.py", "_base_ = ['a.py', 'b.py']\n");
  EXPECT_EQ(error_of(child), child + ":1:10: duplicate key among _base_ files, not allowed: y (also in a.py) in b.py");
}

TEST_F(BaseFiles, DictCannotInheritFromNonDict) {
  file("base.py", "model = dict(neck=[1, 2], depth=None)\n");
  std::string child = file("child.py", "_base_ = 'base.py'\nmodel = dict(neck=dict(a=1))\n");
  EXPECT_EQ(error_of(child), child + ": model.neck: neck={'a': 1} in child config cannot inherit from base because neck "
                                     "is a dict in the child config but is of type <class 'list'> in base config. "
                                     "You may set `_delete_=True` to ignore the base config.");
  std::string ok = file("ok.py", "_base_ = 'base.py'\nmodel = dict(neck=dict(_delete_=True, a=1))\n");
  EXPECT_EQ(first_difference(load_config(ok), value_from_tagged_json(R"({"model": {"neck": {"a": 1}, "depth": null}})")),
            "");
}

TEST_F(BaseFiles, CycleAndReservedKeys) {
  file("a.py", "_base_ = 'b.py'\n");
  std::string b = file("b.py", "_base_ = 'a.py'\n");
  EXPECT_NE(error_of(b).find("_base_ files include each other"), std::string::npos) << error_of(b);
  std::string reserved = file("reserved.py", "filename = 'x'\n");
  EXPECT_NE(error_of(reserved).find("'filename' is reserved"), std::string::npos);
}

TEST_F(BaseFiles, SyntaxErrorInBaseNamesTheBase) {
  file("base.py", "x = 1\ny = lambda: 0\n");
  std::string child = file("child.py", "_base_ = 'base.py'\n");
  EXPECT_EQ(error_of(child), (dir_ / "base.py").string() + ":2:5: unsupported construct: lambda");
}

}  // namespace
}  // namespace cppdet::config
