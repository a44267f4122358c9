// `cppdet benchmark` with the mask_tiny_r50 oracle checkpoint on the 3-image e2e COCO dataset
// (reduced test scale): mmdet's progress lines after the 5 warm-up images, the overall line,
// --repeat-num's list and mean, and argument errors. No timing is asserted.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "support/test_support.h"

namespace cppdet::testing {
namespace {

std::string benchmark_args() {
  const std::string dir = fixture("oracle_cases/mask_tiny_r50");
  return "benchmark " + shell_quote(dir + "/config.py") + " " + shell_quote(dir + "/checkpoint_zip.pth") +
         " --cfg-options " + shell_quote("data.test.ann_file=" + fixture("datasets/e2e_coco/annotations.json")) + " " +
         shell_quote("data.test.img_prefix=" + fixture("datasets/e2e_coco/images") + "/") + " " +
         shell_quote("data.test.pipeline.1.img_scale=(320,320)");
}

// The output's lines that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

TEST(Benchmark, PrintsMmdetProgressAndOverallFps) {
  // 8 images from a 3-image dataset (reused in order): logged at 6 and 8, after the warm-up.
  const CommandResult r = run_cppdet(benchmark_args() + " --max-iter 8 --log-interval 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> done = lines_starting(r.output, "Done image [");
  ASSERT_EQ(done.size(), 2u) << r.output;
  const std::regex line(R"(Done image \[(6  |8  )/ 8\], fps: [0-9]+\.[0-9] img / s, times per image: [0-9]+\.[0-9] ms / img)");
  for (const std::string& l : done) EXPECT_TRUE(std::regex_match(l, line)) << l;
  EXPECT_EQ(done[0].substr(0, 17), "Done image [6  / ");
  const std::vector<std::string> overall = lines_starting(r.output, "Overall fps: ");
  ASSERT_EQ(overall.size(), 1u) << r.output;
  EXPECT_TRUE(std::regex_match(overall[0], std::regex(R"(Overall fps: [0-9]+\.[0-9] img / s, times per image: [0-9]+\.[0-9] ms / img)")))
      << overall[0];
}

TEST(Benchmark, RepeatNumPrintsEachRunAndTheMean) {
  const CommandResult r = run_cppdet(benchmark_args() + " --max-iter 6 --log-interval 50 --repeat-num 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> overall = lines_starting(r.output, "Overall fps: ");
  ASSERT_EQ(overall.size(), 3u) << r.output;  // one per run, then the summary
  std::smatch m;
  const std::regex summary(
      R"(Overall fps: \[([0-9]+\.[0-9]), ([0-9]+\.[0-9])\]\[([0-9]+\.[0-9])\] img / s, times per image: \[([0-9]+\.[0-9]), ([0-9]+\.[0-9])\]\[([0-9]+\.[0-9])\] ms / img)");
  ASSERT_TRUE(std::regex_match(overall[2], m, summary)) << overall[2];
  // The mean of the listed (rounded) values, printed to one decimal.
  EXPECT_NEAR(std::stod(m[3]), (std::stod(m[1]) + std::stod(m[2])) / 2, 0.051);
  EXPECT_NEAR(std::stod(m[6]), (std::stod(m[4]) + std::stod(m[5])) / 2, 0.051);
  // Each run's own overall line agrees with the list.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(overall[i].substr(13, m[1 + i].length()), m[1 + i].str()) << overall[i];
}

TEST(Benchmark, FuseConvBnRuns) {
  const CommandResult r = run_cppdet(benchmark_args() + " --max-iter 6 --fuse-conv-bn");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(lines_starting(r.output, "Overall fps: ").size(), 1u) << r.output;
}

TEST(Benchmark, BadArgumentsAreUserErrors) {
  CommandResult r = run_cppdet(benchmark_args() + " --max-iter 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--max-iter must be greater than the 5 warm-up images"), std::string::npos) << r.output;
  const std::string dir = fixture("oracle_cases/mask_tiny_r50");
  r = run_cppdet("benchmark " + shell_quote(dir + "/config.py") + " /nonexistent/model.pth");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/model.pth"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cppdet::testing
