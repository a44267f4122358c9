// `cppdet`: MMDetection's tools as one executable. A user error prints one line naming
// what is wrong and exits 2; an internal error exits 1.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "cppdet/apis/plugins.h"
#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/version.h"
#include "command.h"
#include "commands.h"

namespace cppdet::tools {

void add_cfg_options(CLI::App& cmd, std::vector<std::string>& into) {
  cmd.add_option("--cfg-options", into,
                 "override config keys: a.b.c=value (mmcv syntax: numbers, True/False/None, [a,b], (a,b))")
      ->expected(1, -1);
}

void add_precision_option(CLI::App& cmd, std::string& into) {
  cmd.add_option("--precision", into,
                 "fp32 (default), bf16 (bfloat16 convolutions and linears on CPUs with AVX512-BF16 / AMX) or int8 "
                 "(a checkpoint calibrated by `cppdet quantize`); CPU only")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
}

config::Value load_config_and_plugins(const std::string& path, const std::vector<std::string>& cfg_options) {
  config::Value cfg = config::load_config(path, cfg_options);
  apis::load_plugins(cfg, path);
  return cfg;
}

void configure_threads() {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  for (const char* var : {"CPPDET_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(var); v && std::atoi(v) > 0) {
      threads = std::atoi(v);
      break;
    }
  }
  at::set_num_threads(threads > 0 ? threads : 1);
}

}  // namespace cppdet::tools

int main(int argc, char** argv) {
  CLI::App app{"cppdet: MMDetection-compatible object detection in C++"};
  app.set_version_flag("--version", std::string("cppdet ") + cppdet::kVersion);
  app.require_subcommand(1);
  cppdet::tools::register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "cppdet: " << e.what() << "\n";
    return 2;
  } catch (const cppdet::UserError& e) {
    std::cerr << "cppdet: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "cppdet: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
