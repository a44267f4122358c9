// `cppdet test` end to end on a 3-image COCO-format dataset (tests/fixtures/datasets/e2e_coco,
// images from ../shared/data) with the mask_tiny_r50 oracle checkpoint: --eval bbox segm,
// --format-only, --show-dir, --out + `cppdet eval-results`, and the numbers against
// `cppdet eval-coco` on the written results json. Error exits for bad inputs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace cppdet::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string model_args() {
  const std::string dir = fixture("oracle_cases/mask_tiny_r50");
  return shell_quote(dir + "/config.py") + " " + shell_quote(dir + "/checkpoint_zip.pth");
}

std::string dataset_args(const std::string& ann_file) {
  return " --cfg-options " + shell_quote("data.test.ann_file=" + ann_file) + " " +
         shell_quote("data.test.img_prefix=" + fixture("datasets/e2e_coco/images") + "/");
}

std::string e2e_ann() { return fixture("datasets/e2e_coco/annotations.json"); }

// The 12 COCOeval summary lines that follow "Evaluate annotation type *<type>*" in `text`.
std::string summary_after(const std::string& text, const std::string& type) {
  size_t pos = text.find("Evaluate annotation type *" + type + "*");
  if (pos == std::string::npos) return "";
  pos = text.find(" Average Precision", pos);
  std::istringstream in(text.substr(pos));
  std::string line, out;
  for (int i = 0; i < 12 && std::getline(in, line); ++i) out += line + "\n";
  return out;
}

// The line that starts with "OrderedDict(".
std::string metric_line(const std::string& text) {
  const size_t pos = text.find("OrderedDict(");
  if (pos == std::string::npos) return "";
  return text.substr(pos, text.find('\n', pos) - pos);
}

TEST(TestCommand, EvalFormatShowAndEvalResultsAgreeWithEvalCoco) {
  const std::string out = make_temp_dir("cppdet-test");
  const CommandResult r = run_cppdet("test " + model_args() + " --eval bbox segm --out " + shell_quote(out + "/results.json") +
                                     " --eval-options " + shell_quote("jsonfile_prefix=" + out + "/res") +
                                     " --show-dir " + shell_quote(out + "/show") + dataset_args(e2e_ann()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3/3"), std::string::npos) << r.output;  // the progress bar's last state
  EXPECT_NE(r.output.find("\nEvaluating bbox...\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\nEvaluating segm...\n"), std::string::npos) << r.output;
  const std::string metrics = metric_line(r.output);
  EXPECT_EQ(metrics.rfind("OrderedDict([('bbox_mAP', ", 0), 0u) << metrics;
  EXPECT_NE(metrics.find("('segm_mAP_copypaste', '"), std::string::npos) << metrics;
  for (const char* f : {"color.jpg", "gray.jpg", "voc_000001.jpg"}) EXPECT_TRUE(fs::exists(out + "/show/" + f)) << f;
  ASSERT_TRUE(fs::exists(out + "/res.bbox.json"));
  ASSERT_TRUE(fs::exists(out + "/res.segm.json"));
  ASSERT_TRUE(fs::exists(out + "/results.json"));

  // bbox: eval-coco with mmdet's maxDets prints the same 12 lines.
  const std::string params = shell_quote("{\"maxDets\": [100, 300, 1000]}");
  const CommandResult bbox = run_cppdet("eval-coco " + shell_quote(e2e_ann()) + " " + shell_quote(out + "/res.bbox.json") +
                                        " --iou-type bbox --params " + params);
  ASSERT_EQ(bbox.exit_code, 0) << bbox.output;
  EXPECT_EQ(summary_after(r.output, "bbox"), bbox.output);
  // segm: mmdet drops each record's "bbox" before loadRes (areas from the masks); do the same.
  json segm = json::parse(read_text(out + "/res.segm.json"));
  ASSERT_FALSE(segm.empty());
  for (json& rec : segm) rec.erase("bbox");
  std::ofstream(out + "/segm_nobox.json") << segm.dump();
  const CommandResult sg = run_cppdet("eval-coco " + shell_quote(e2e_ann()) + " " + shell_quote(out + "/segm_nobox.json") +
                                      " --iou-type segm --params " + params);
  ASSERT_EQ(sg.exit_code, 0) << sg.output;
  EXPECT_EQ(summary_after(r.output, "segm"), sg.output);

  // --format-only writes the same files.
  const CommandResult fmt = run_cppdet("test " + model_args() + " --format-only --eval-options " +
                                       shell_quote("jsonfile_prefix=" + out + "/fmt") + dataset_args(e2e_ann()));
  ASSERT_EQ(fmt.exit_code, 0) << fmt.output;
  EXPECT_EQ(read_text(out + "/fmt.bbox.json"), read_text(out + "/res.bbox.json"));
  EXPECT_EQ(read_text(out + "/fmt.segm.json"), read_text(out + "/res.segm.json"));

  // eval-results evaluates the --out file again without the model: the same metrics.
  const CommandResult again = run_cppdet("eval-results " + shell_quote(fixture("oracle_cases/mask_tiny_r50/config.py")) + " " +
                                         shell_quote(out + "/results.json") + " --eval bbox segm" + dataset_args(e2e_ann()));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(metric_line(again.output), metrics);
  EXPECT_EQ(summary_after(again.output, "bbox"), bbox.output);
}

TEST(TestCommand, FuseConvBnGivesTheSameMetrics) {
  // Folding the BatchNorms changes the numbers by float rounding only: the metrics agree.
  const CommandResult plain = run_cppdet("test " + model_args() + " --eval bbox segm" + dataset_args(e2e_ann()));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const CommandResult fused = run_cppdet("test " + model_args() + " --fuse-conv-bn --eval bbox segm" + dataset_args(e2e_ann()));
  ASSERT_EQ(fused.exit_code, 0) << fused.output;
  EXPECT_EQ(metric_line(fused.output), metric_line(plain.output));
}

TEST(TestCommand, ErrorsExitNonZeroWithAClearMessage) {
  const std::string out = make_temp_dir("cppdet-test-err");
  const std::string dir = fixture("oracle_cases/mask_tiny_r50");
  // Missing checkpoint.
  CommandResult r = run_cppdet("test " + shell_quote(dir + "/config.py") + " " + shell_quote(out + "/none.pth") +
                               " --eval bbox" + dataset_args(e2e_ann()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(out + "/none.pth"), std::string::npos) << r.output;
  // Missing annotation file.
  r = run_cppdet("test " + model_args() + " --eval bbox" + dataset_args(out + "/missing.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(out + "/missing.json"), std::string::npos) << r.output;
  // An annotation file that is not COCO json.
  std::ofstream(out + "/broken.json") << "{\"images\": [";
  r = run_cppdet("test " + model_args() + " --eval bbox" + dataset_args(out + "/broken.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("broken.json"), std::string::npos) << r.output;
  // An image listed but missing on disk: the message names it and no results file is left.
  json ann = json::parse(read_text(e2e_ann()));
  ann["images"][0]["file_name"] = "nowhere.jpg";
  std::ofstream(out + "/missing_image.json") << ann.dump();
  r = run_cppdet("test " + model_args() + " --eval bbox --out " + shell_quote(out + "/r.json") +
                 dataset_args(out + "/missing_image.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("nowhere.jpg"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out + "/r.json"));
  // Argument errors.
  r = run_cppdet("test " + model_args() + " --out " + shell_quote(out + "/r.pkl") + dataset_args(e2e_ann()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(".json"), std::string::npos) << r.output;
  r = run_cppdet("test " + model_args() + " --eval bbox --format-only" + dataset_args(e2e_ann()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_cppdet("test " + model_args() + dataset_args(e2e_ann()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--out, --eval, --format-only or --show-dir"), std::string::npos) << r.output;
  // eval-results on a file that is not a results file.
  r = run_cppdet("eval-results " + shell_quote(dir + "/config.py") + " " + shell_quote(e2e_ann()) + " --eval bbox" +
                 dataset_args(e2e_ann()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not a cppdet test results file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cppdet::testing
