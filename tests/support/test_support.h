#pragma once
// Helpers shared by the test suites.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cppdet/core/error.h"

namespace cppdet::testing {

// The repository root (CPPDET_SOURCE_DIR env, else the configure-time path).
std::string source_dir();
// <repo>/tests/fixtures/<relative>.
std::string fixture(const std::string& relative);
// ../shared next to the repository (present on developer machines and in CI); "" if absent.
std::string shared_dir();
// The built `cppdet` executable.
std::string cppdet_exe();
// A fresh empty directory under the system temp dir, removed at process exit.
std::string make_temp_dir(const std::string& tag);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};
// Runs a shell command line, capturing its output.
CommandResult run_command(const std::string& command_line);
// Runs `cppdet <args>`.
CommandResult run_cppdet(const std::string& args);
// The whole content of a file ("" when it cannot be read).
std::string read_text(const std::string& path);
// A TCP port of 127.0.0.1 that the kernel just handed out as free (bound to port 0 and
// released), for tests that start a distributed run.
int free_tcp_port();
// Quotes a string for /bin/sh.
std::string shell_quote(const std::string& s);

// The shipped configs with an mmcv-merged oracle: oracle name
// (tests/fixtures/configs/visible/<name>.json) -> path under configs/.
const std::map<std::string, std::string>& shipped_configs();

// A work dir's *.log.json files, oldest (smallest timestamp) first.
std::vector<std::string> json_logs(const std::string& work_dir);
// The records of a JSON log that have a "mode" (the meta line has none). Complete lines only,
// since the file may be mid-write; a complete line that is not JSON throws.
std::vector<nlohmann::json> log_records(const std::string& log_json);

// The message of the UserError that `f()` throws, or "" when it throws none.
template <typename F>
std::string user_error_of(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

}  // namespace cppdet::testing
