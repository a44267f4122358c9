#include "support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace cppdet::testing {
namespace {

// Leaked on purpose: the atexit handler below runs after static destructors would.
std::vector<std::string>& temp_dirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

void remove_temp_dirs() {
  for (const std::string& d : temp_dirs()) {
    std::error_code ec;
    fs::remove_all(d, ec);
  }
}

}  // namespace

std::string source_dir() {
  if (const char* v = std::getenv("CPPDET_SOURCE_DIR")) return v;
  return CPPDET_SOURCE_DIR_DEFAULT;
}

std::string fixture(const std::string& relative) { return source_dir() + "/tests/fixtures/" + relative; }

std::string shared_dir() {
  const fs::path candidate = fs::path(source_dir()).parent_path() / "shared";
  return fs::is_directory(candidate) ? candidate.string() : std::string();
}

std::string cppdet_exe() {
  if (const char* v = std::getenv("CPPDET_EXE")) return v;
  return CPPDET_EXE_DEFAULT;
}

std::string make_temp_dir(const std::string& tag) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(remove_temp_dirs); });
  std::string pattern = (fs::temp_directory_path() / ("cppdet-" + tag + "-XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return {};
  temp_dirs().emplace_back(buf.data());
  return temp_dirs().back();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = ::popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult run_cppdet(const std::string& args) { return run_command(shell_quote(cppdet_exe()) + " " + args); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cppdet::testing
