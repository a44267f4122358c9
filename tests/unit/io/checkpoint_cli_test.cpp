// `cppdet checkpoint inspect|publish` on the oracle's checkpoints (../shared/oracle/cases),
// compared with what Python's torch.load finds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "cppdet/core/atomic_file.h"
#include "cppdet/io/sha256.h"
#include "python_torch.h"
#include "support/test_support.h"

namespace cppdet::io {
namespace {

namespace fs = std::filesystem;
using testing::shell_quote;

std::vector<std::string> oracle_checkpoints() {
  std::vector<std::string> out;
  const std::string shared = testing::shared_dir();
  if (shared.empty() || !fs::is_directory(shared + "/oracle/cases")) return out;
  for (const auto& dir : fs::directory_iterator(shared + "/oracle/cases"))
    for (const char* name : {"checkpoint_zip.pth", "checkpoint_legacy.pth"})
      if (fs::exists(dir.path() / name)) out.push_back((dir.path() / name).string());
  std::sort(out.begin(), out.end());
  return out;
}

class CheckpointCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(testing::cppdet_exe())) GTEST_SKIP() << "cppdet executable not built";
    if (testing::python_with_torch().empty()) GTEST_SKIP() << "python3 with torch not found";
    if (oracle_checkpoints().empty()) GTEST_SKIP() << "../shared/oracle/cases not present";
  }
};

TEST_F(CheckpointCli, InspectListsWhatTorchLoadFinds) {
  for (const std::string& path : oracle_checkpoints()) {
    SCOPED_TRACE(path);
    testing::CommandResult r = testing::run_cppdet("checkpoint inspect --json " + shell_quote(path) + " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    nlohmann::json ours = nlohmann::json::parse(r.output);
    EXPECT_EQ(ours["format"], path.find("_zip") != std::string::npos ? "zip" : "legacy");
    EXPECT_EQ(ours["meta"]["CLASSES"].begin().key(), "__tuple__");
    nlohmann::json python = nlohmann::json::parse(testing::run_python_script("list_tensors.py", shell_quote(path)));
    EXPECT_EQ(ours["tensors"], python);
  }
}

TEST_F(CheckpointCli, PublishWritesZipTorchLoadReadsBack) {
  const std::string dir = testing::make_temp_dir("io-publish");
  for (const std::string& path : oracle_checkpoints()) {
    SCOPED_TRACE(path);
    testing::CommandResult r = testing::run_cppdet("checkpoint publish " + shell_quote(path) + " " + shell_quote(dir + "/model.pth"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string published = r.output.substr(0, r.output.find('\n'));
    std::smatch m;
    ASSERT_TRUE(std::regex_match(published, m, std::regex(".*/model-([0-9a-f]{8})\\.pth"))) << published;
    EXPECT_EQ(sha256_hex(read_file(published)).substr(0, 8), m[1].str());
    EXPECT_EQ(testing::run_python_script("compare_checkpoints.py", shell_quote(path) + " " + shell_quote(published)).substr(0, 2), "ok");
    fs::remove(published);
  }
}

TEST_F(CheckpointCli, InspectOfABadFileIsAUserError) {
  const std::string dir = testing::make_temp_dir("io-bad");
  testing::CommandResult r = testing::run_cppdet("checkpoint inspect " + shell_quote(dir + "/missing.pth"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.pth"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cppdet::io
