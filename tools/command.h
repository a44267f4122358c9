#pragma once
// One subcommand of the `cppdet` executable. Each tools/<name>.cpp defines a
// `register_<name>(CLI::App&)` that adds its subcommand and callback; main.cpp lists them.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::tools {

// Adds `--cfg-options KEY=VALUE ...` (mmcv's DictAction syntax) to a subcommand.
void add_cfg_options(CLI::App& cmd, std::vector<std::string>& into);

// Adds `--precision fp32|bf16|int8` (docs/inference.md, "Precision"): what the CPU layers run in.
void add_precision_option(CLI::App& cmd, std::string& into);

// config::load_config, then the config's custom_imports plugins (apis/plugins.h): for every
// subcommand that builds a model, dataset or pipeline from the config.
config::Value load_config_and_plugins(const std::string& path, const std::vector<std::string>& cfg_options);

// Applies --cfg-options and CLI-level defaults; sets LibTorch's intra-op threads to the core
// count unless CPPDET_NUM_THREADS or OMP_NUM_THREADS says otherwise.
void configure_threads();

}  // namespace cppdet::tools
