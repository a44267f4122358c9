// `cppdet data synth-shapes`, `cppdet train-step` against MMDetection's losses and gradient
// norms (shared/oracle/train), `cppdet train`'s first logged losses, and the quick-start run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using cppdet::testing::json_logs;
using cppdet::testing::log_records;
using cppdet::testing::make_temp_dir;
using cppdet::testing::read_text;
using cppdet::testing::run_command;
using cppdet::testing::run_cppdet;
using cppdet::testing::shell_quote;
using cppdet::testing::source_dir;

std::string cppdet_in(const std::string& dir, const std::string& args) {
  return "cd " + shell_quote(dir) + " && " + shell_quote(cppdet::testing::cppdet_exe()) + " " + args;
}

void expect_rel(double actual, double expected, double rel, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), rel * std::max(std::abs(expected), 1e-6))
      << what << ": got " << actual << ", expected " << expected;
}

TEST(SynthShapesCli, WritesACocoDataset) {
  const std::string dir = make_temp_dir("synth-cli");
  auto r = run_cppdet("data synth-shapes " + shell_quote(dir + "/shapes") + " --train 3 --val 2 --seed 4 --size 128x96");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json val = Json::parse(read_text(dir + "/shapes/annotations/instances_val.json"));
  ASSERT_EQ(val["images"].size(), 2u);
  EXPECT_EQ(val["images"][0]["width"], 128);
  EXPECT_EQ(val["images"][0]["height"], 96);
  EXPECT_EQ(val["categories"].size(), 4u);
  EXPECT_GE(val["annotations"].size(), 2u);
  EXPECT_TRUE(fs::is_regular_file(dir + "/shapes/train/000002.png"));
  EXPECT_TRUE(fs::is_regular_file(dir + "/shapes/val/000001.png"));
  // Same seed, same bytes.
  auto again = run_cppdet("data synth-shapes " + shell_quote(dir + "/again") + " --train 3 --val 2 --seed 4 --size 128x96");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_text(dir + "/again/annotations/instances_train.json"),
            read_text(dir + "/shapes/annotations/instances_train.json"));
  EXPECT_EQ(read_text(dir + "/again/train/000001.png"), read_text(dir + "/shapes/train/000001.png"));

  auto bad = run_cppdet("data synth-shapes " + shell_quote(dir + "/bad") + " --size 12");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--size"), std::string::npos) << bad.output;
}

// A copy of a training-parity case folder (tests/fixtures/train_cases/<case>, else
// ../shared/oracle/train/<case>); "" when neither exists.
std::string case_copy(const std::string& name) {
  std::string src = cppdet::testing::fixture("train_cases/" + name);
  if (!fs::is_directory(src)) {
    const std::string shared = cppdet::testing::shared_dir();
    src = shared.empty() ? "" : shared + "/oracle/train/" + name;
  }
  if (src.empty() || !fs::is_regular_file(src + "/expected.json")) return "";
  const std::string dir = make_temp_dir("train-case");
  fs::copy(src, dir, fs::copy_options::recursive);
  for (const auto& e : fs::directory_iterator(dir))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  return dir;
}

class TrainParity : public ::testing::TestWithParam<std::string> {};

// The oracle's numbers were computed by oneDNN's AVX2 convolution kernels with 2 threads (the
// machine that made them had no AVX-512). Capping oneDNN at AVX2 here reproduces that
// arithmetic: cppdet then matches MMDetection bit for bit (measured difference 0.0 for every
// loss, gradient norm and step-2 term). With a CPU's native AVX-512 kernels the convolutions
// round differently (~1e-6), and this case's ReLU-gated gradients turn that into up to 1.7e-3
// for backbone.layer2.0.conv1 (test_models TrainParity runs that way, with wider bounds).
bool cpu_has_avx2() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) return (line + " ").find(" avx2 ") != std::string::npos;
  return false;
}

// `cppdet train-step --steps 2` on a training case, under the oracle's kernels and threads.
void expect_train_step_matches(const std::string& name) {
  const std::string dir = case_copy(name);
  if (dir.empty()) GTEST_SKIP() << "training oracle case " << name << " not available";
  if (!cpu_has_avx2()) GTEST_SKIP() << "the oracle's arithmetic needs oneDNN's AVX2 kernels; this CPU has no AVX2";
  auto r = run_command("cd " + shell_quote(dir) + " && ONEDNN_MAX_CPU_ISA=AVX2 CPPDET_NUM_THREADS=2 " +
                       shell_quote(cppdet::testing::cppdet_exe()) +
                       " train-step train_config.py checkpoint.pth --steps 2 --out steps.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json expected = Json::parse(read_text(dir + "/expected.json"));
  const Json steps = Json::parse(read_text(dir + "/steps.json"))["steps"];
  ASSERT_EQ(steps.size(), 2u);
  // The bounds: step 1's terms 1e-4, the listed gradient norms 1e-3, step 2's terms 1e-3.
  for (const auto& [key, value] : expected["forward1"]["log_vars"].items()) {
    const Json& got = key == "loss" ? steps[0]["loss"] : steps[0]["losses"][key];
    ASSERT_TRUE(got.is_number()) << "step 1 lacks " << key;
    expect_rel(got.get<double>(), value.get<double>(), 1e-4, "step 1 " + key);
  }
  std::vector<std::string> missing = expected.value("grad_missing", std::vector<std::string>{});
  for (const auto& [name, norm] : expected["grad_norms"].items()) {
    if (std::find(missing.begin(), missing.end(), name) != missing.end()) continue;
    ASSERT_TRUE(steps[0]["grad_norms"].contains(name)) << "no gradient for " << name;
    expect_rel(steps[0]["grad_norms"][name].get<double>(), norm.get<double>(), 1e-3, "grad norm " + name);
  }
  for (const std::string& frozen : expected.value("requires_grad_false", std::vector<std::string>{}))
    EXPECT_FALSE(steps[0]["grad_norms"].contains(frozen)) << frozen << " is frozen but got a gradient";
  for (const auto& [key, value] : expected["forward2"]["log_vars"].items()) {
    const Json& got = key == "loss" ? steps[1]["loss"] : steps[1]["losses"][key];
    ASSERT_TRUE(got.is_number()) << "step 2 lacks " << key;
    expect_rel(got.get<double>(), value.get<double>(), 1e-3, "step 2 " + key);
  }
}

TEST_P(TrainParity, TrainStepMatchesMmdetection) { expect_train_step_matches(GetParam()); }

// The one-stage cases (FCOS, ATSS, GFL) check `cppdet train-step` only: `cppdet train` shares
// its path, which the two-stage cases above cover.
class OneStageTrainParity : public ::testing::TestWithParam<std::string> {};

TEST_P(OneStageTrainParity, TrainStepMatchesMmdetection) { expect_train_step_matches(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Cases, OneStageTrainParity,
                         ::testing::Values("fcos_tiny_r50_train", "atss_tiny_r50_train", "gfl_tiny_r50_train"));

// `cppdet train` logs the same first-iteration losses (computed before any optimizer step;
// the batch is the dataset order with shuffling off).
TEST_P(TrainParity, TrainLogsTheSameFirstLosses) {
  const std::string dir = case_copy(GetParam());
  if (dir.empty()) GTEST_SKIP() << "training oracle case " << GetParam() << " not available";
  auto r = run_command(cppdet_in(dir,
                                 "train train_config.py --load-from checkpoint.pth --work-dir work --no-validate --seed 0 --cfg-options "
                                 "runner.max_epochs=1 log_config.interval=1 data.train_dataloader.shuffle=False "
                                 "data.workers_per_gpu=0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> logs = json_logs(dir + "/work");
  ASSERT_EQ(logs.size(), 1u) << r.output;
  const std::vector<Json> records = log_records(logs[0]);
  ASSERT_FALSE(records.empty()) << r.output;
  const Json& first = records.front();
  EXPECT_EQ(first["mode"], "train");
  EXPECT_EQ(first["iter"], 1);
  const Json expected = Json::parse(read_text(dir + "/expected.json"));
  for (const auto& [key, value] : expected["forward1"]["log_vars"].items()) {
    ASSERT_TRUE(first.contains(key)) << first.dump();
    // The log rounds to 5 decimals.
    EXPECT_NEAR(first[key].get<double>(), value.get<double>(), std::max(1e-4 * std::abs(value.get<double>()), 6e-6))
        << key;
  }
  EXPECT_TRUE(fs::exists(dir + "/work/epoch_1.pth"));
}

INSTANTIATE_TEST_SUITE_P(Cases, TrainParity, ::testing::Values("faster_tiny_r50_train", "mask_tiny_r50_train"));

// The quick start's acceptance run (minutes; registered as the ctest QuickStart.TrainFromScratch
// with --gtest_also_run_disabled_tests): render the shapes dataset, train the quick-start config
// from scratch, and reach bbox mAP >= 0.5 and segm mAP >= 0.4 on the held-out split.
TEST(QuickStart, DISABLED_TrainFromScratch) {
  const std::string dir = make_temp_dir("quickstart");
  const std::string config = source_dir() + "/configs/quickstart/mask_rcnn_r18_fpn_shapes.py";
  auto data = run_command(cppdet_in(dir, "data synth-shapes data/shapes --train 400 --val 50 --seed 0 --size 192x192"));
  ASSERT_EQ(data.exit_code, 0) << data.output;
  auto train = run_command(cppdet_in(dir, "train " + shell_quote(config) + " --work-dir work --seed 0"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const std::vector<std::string> logs = json_logs(dir + "/work");
  ASSERT_EQ(logs.size(), 1u) << train.output;
  const std::vector<Json> records = log_records(logs[0]);
  const Json* last_val = nullptr;
  for (const Json& j : records)
    if (j["mode"] == "val") last_val = &j;
  ASSERT_NE(last_val, nullptr) << train.output;
  std::cout << "quick start final evaluation: " << last_val->dump() << "\n";
  EXPECT_GE((*last_val)["bbox_mAP"].get<double>(), 0.5);
  EXPECT_GE((*last_val)["segm_mAP"].get<double>(), 0.4);
  // The README's last step: draw the trained model's detections on a held-out image.
  auto demo = run_command(cppdet_in(dir, "demo image data/shapes/val/000000.png " + shell_quote(config) +
                                             " work/latest.pth --score-thr 0.5 --out-file out/result.png"));
  ASSERT_EQ(demo.exit_code, 0) << demo.output;
  EXPECT_TRUE(fs::is_regular_file(dir + "/out/result.png"));
}

}  // namespace
}  // namespace cppdet
