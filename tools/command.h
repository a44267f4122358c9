#pragma once
// One subcommand of the `cppdet` executable. Each tools/<name>.cpp defines a
// `register_<name>(CLI::App&)` that adds its subcommand and callback; main.cpp lists them.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cppdet::tools {

// Adds `--cfg-options KEY=VALUE ...` (mmcv's DictAction syntax) to a subcommand.
void add_cfg_options(CLI::App& cmd, std::vector<std::string>& into);

// Applies --cfg-options and CLI-level defaults; sets LibTorch's intra-op threads to the core
// count unless CPPDET_NUM_THREADS or OMP_NUM_THREADS says otherwise.
void configure_threads();

}  // namespace cppdet::tools
