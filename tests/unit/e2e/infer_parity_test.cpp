// `cppdet infer` on every oracle case with both of its checkpoints, judged by the oracle's
// own compare.py (box IoU > 0.99, |score diff| < 1e-3, masks IoU >= 0.98 or <= 8 pixels off,
// nothing missing or extra).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;

// A Python 3 with numpy (compare.py needs it), or "" when there is none.
std::string python_with_numpy() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (testing::run_command(std::string(candidate) + " -c 'import numpy'").exit_code == 0) return candidate;
  }
  return "";
}

struct Case {
  std::string name;
  std::string checkpoint;  // checkpoint_zip.pth | checkpoint_legacy.pth
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name + "_" + info.param.checkpoint.substr(11, info.param.checkpoint.size() - 15);
}

class InferParity : public ::testing::TestWithParam<Case> {};

TEST_P(InferParity, MatchesMmdetOracle) {
  const Case& c = GetParam();
  const std::string dir = testing::fixture("oracle_cases/" + c.name);
  // The fixtures carry every zip checkpoint and one legacy one; the other legacy files are
  // read from ../shared when present.
  std::string checkpoint = dir + "/" + c.checkpoint;
  if (!fs::exists(checkpoint)) {
    const std::string shared = testing::shared_dir();
    checkpoint = shared.empty() ? "" : shared + "/oracle/cases/" + c.name + "/" + c.checkpoint;
    if (checkpoint.empty() || !fs::exists(checkpoint)) GTEST_SKIP() << c.checkpoint << " of " << c.name << " not available";
  }
  const std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "no python3 with numpy for compare.py";

  std::string images;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".png") images += " " + testing::shell_quote(entry.path().string());
  const std::string out = testing::make_temp_dir("infer") + "/results.json";
  const testing::CommandResult run = testing::run_cppdet("infer " + testing::shell_quote(dir + "/config.py") + " " +
                                                         testing::shell_quote(checkpoint) + images + " --out " +
                                                         testing::shell_quote(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;

  const testing::CommandResult cmp =
      testing::run_command(python + " " + testing::shell_quote(testing::fixture("oracle_cases/compare.py")) + " " +
                           testing::shell_quote(out) + " " + testing::shell_quote(dir + "/outputs.json"));
  EXPECT_EQ(cmp.exit_code, 0) << cmp.output;
}

INSTANTIATE_TEST_SUITE_P(OracleCases, InferParity,
                         ::testing::Values(Case{"faster_tiny_r50", "checkpoint_zip.pth"},
                                           Case{"faster_tiny_r50", "checkpoint_legacy.pth"},
                                           Case{"faster_tiny_r18_caffe", "checkpoint_zip.pth"},
                                           Case{"faster_tiny_r18_caffe", "checkpoint_legacy.pth"},
                                           Case{"mask_tiny_r50", "checkpoint_zip.pth"},
                                           Case{"mask_tiny_r50", "checkpoint_legacy.pth"},
                                           Case{"fcos_tiny_r50", "checkpoint_zip.pth"},
                                           Case{"fcos_tiny_r50_giou", "checkpoint_zip.pth"},
                                           Case{"atss_tiny_r50", "checkpoint_zip.pth"},
                                           Case{"gfl_tiny_r50", "checkpoint_zip.pth"}),
                         case_name);

}  // namespace
}  // namespace cppdet
