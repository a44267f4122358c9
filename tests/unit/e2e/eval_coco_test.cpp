// `cppdet eval-coco` on the COCO oracle fixtures: printed summary, --json output, --params,
// --classwise and error exits.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace cppdet::testing {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string joined(const json& lines) {
  std::string s;
  for (const auto& l : lines) s += l.get<std::string>() + "\n";
  return s;
}

TEST(EvalCoco, PrintsPycocotoolsSummaryAndWritesJson) {
  const std::string dir = fixture("coco/crowd_ignore");
  for (const char* type : {"bbox", "segm"}) {
    const json want = read_json(dir + "/expected_" + std::string(type) + ".json");
    const std::string out = make_temp_dir("eval-coco") + "/metrics.json";
    const CommandResult r = run_cppdet("eval-coco " + shell_quote(dir + "/gt.json") + " " +
                                       shell_quote(dir + "/dt_" + std::string(type) + ".json") + " --iou-type " + type +
                                       " --json " + shell_quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, joined(want["summarize_stdout"]));
    const json got = read_json(out);
    ASSERT_EQ(got["stats"].size(), 12u);
    for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(got["stats"][i].get<double>(), want["stats"][i].get<double>(), 1e-12);
    for (const auto& [cat, v] : want["per_category"].items())
      for (const char* key : {"ap", "ap50", "ap75"})
        EXPECT_NEAR(got["per_category"][cat][key].get<double>(), v[key].get<double>(), 1e-12) << cat << " " << key;
  }
}

TEST(EvalCoco, ParamsOverrideByName) {
  const std::string dir = fixture("coco/area_boundaries");
  const json want = read_json(dir + "/expected_bbox_areaRng16_64.json");
  const CommandResult r = run_cppdet("eval-coco " + shell_quote(dir + "/gt.json") + " " + shell_quote(dir + "/dt_bbox.json") +
                                     " --params '{\"areaRng\": [[0, 1e10], [0, 256], [256, 4096], [4096, 1e10]]}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, joined(want["summarize_stdout"]));
  const std::string usecats0 = fixture("coco/usecats0");
  const json want0 = read_json(usecats0 + "/expected_bbox_usecats0.json");
  const CommandResult r0 = run_cppdet("eval-coco " + shell_quote(usecats0 + "/gt.json") + " " +
                                      shell_quote(usecats0 + "/dt_bbox.json") + " --params '{\"useCats\": 0}'");
  ASSERT_EQ(r0.exit_code, 0) << r0.output;
  EXPECT_EQ(r0.output, joined(want0["summarize_stdout"]));
}

TEST(EvalCoco, ClasswiseTableAndProposalMode) {
  const std::string dir = fixture("coco/tiny_exact");
  const CommandResult r = run_cppdet("eval-coco " + shell_quote(dir + "/gt.json") + " " + shell_quote(dir + "/dt_bbox.json") +
                                     " --classwise");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("| category | AP    | category | AP    | category | AP   |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| c1       | 0.452 | c2       | 0.667 | c3       | nan  |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| c4       | nan   | c5       | 0.809 | None     | None |"), std::string::npos) << r.output;
  const CommandResult p = run_cppdet("eval-coco " + shell_quote(dir + "/gt.json") + " " + shell_quote(dir + "/dt_bbox.json") +
                                     " --iou-type proposal");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_NE(p.output.find("Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=1000 ]"), std::string::npos);
}

TEST(EvalCoco, ErrorsNameTheFileAndLeaveNoOutput) {
  const std::string tmp = make_temp_dir("eval-coco-err");
  const std::string gt = fixture("coco/tiny_exact/gt.json");
  {
    std::ofstream(tmp + "/bad.json") << "{\"images\": [\n{\"id\": 1,,";
    const CommandResult r = run_cppdet("eval-coco " + shell_quote(tmp + "/bad.json") + " " + shell_quote(gt) + " --json " +
                                       shell_quote(tmp + "/out.json"));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("bad.json:2:"), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(tmp + "/out.json"));
  }
  {
    std::ofstream(tmp + "/dt.json") << R"([{"image_id": 4242, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])";
    const CommandResult r = run_cppdet("eval-coco " + shell_quote(gt) + " " + shell_quote(tmp + "/dt.json"));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("image_id 4242"), std::string::npos) << r.output;
  }
  {
    const CommandResult r = run_cppdet("eval-coco " + shell_quote(gt) + " " + shell_quote(gt));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("not a COCO results file"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace cppdet::testing
