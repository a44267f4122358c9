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
  std::string args;
  for (const std::string& path : oracle_checkpoints()) args += " " + shell_quote(path);
  const nlohmann::json python = nlohmann::json::parse(testing::run_python_script("list_tensors.py", args));
  for (const std::string& path : oracle_checkpoints()) {
    SCOPED_TRACE(path);
    testing::CommandResult r = testing::run_cppdet("checkpoint inspect --json " + shell_quote(path) + " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    nlohmann::json ours = nlohmann::json::parse(r.output);
    EXPECT_EQ(ours["format"], path.find("_zip") != std::string::npos ? "zip" : "legacy");
    EXPECT_EQ(ours["meta"]["CLASSES"].begin().key(), "__tuple__");
    EXPECT_EQ(ours["tensors"], python[path]);
  }
}

TEST_F(CheckpointCli, PublishWritesZipTorchLoadReadsBack) {
  const std::string dir = testing::make_temp_dir("io-publish");
  std::string pairs;
  for (const std::string& path : oracle_checkpoints()) {
    SCOPED_TRACE(path);
    const std::string out = dir + "/" + fs::path(path).parent_path().filename().string() + "_" + fs::path(path).filename().string();
    testing::CommandResult r = testing::run_cppdet("checkpoint publish " + shell_quote(path) + " " + shell_quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string published = r.output.substr(0, r.output.find('\n'));
    std::smatch m;
    const std::string stem = out.substr(0, out.size() - 4);
    ASSERT_TRUE(std::regex_match(published, m, std::regex("(.*)-([0-9a-f]{8})\\.pth"))) << published;
    EXPECT_EQ(m[1].str(), stem);
    EXPECT_EQ(sha256_hex(read_file(published)).substr(0, 8), m[2].str());
    pairs += " " + shell_quote(path) + " " + shell_quote(published);
  }
  const std::string report = testing::run_python_script("compare_checkpoints.py", pairs);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), static_cast<long>(oracle_checkpoints().size())) << report;
}

TEST_F(CheckpointCli, InspectOfABadFileIsAUserError) {
  const std::string dir = testing::make_temp_dir("io-bad");
  testing::CommandResult r = testing::run_cppdet("checkpoint inspect " + shell_quote(dir + "/missing.pth"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.pth"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cppdet::io
