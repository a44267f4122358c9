// `cppdet print-config CONFIG [--cfg-options ...] [--format py|json]`: the merged config,
// as mmdet's tools/misc/print_config.py shows it.
#include <iostream>

#include "command.h"
#include "cppdet/config/config_file.h"

namespace cppdet::tools {

void register_print_config(CLI::App& app) {
  struct Options {
    std::string config;
    std::vector<std::string> cfg_options;
    std::string format = "py";
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("print-config", "print the merged config (after _base_ and --cfg-options)");
  cmd->add_option("config", opts->config, "config file (.py, .json, .yaml)")->required();
  add_cfg_options(*cmd, opts->cfg_options);
  cmd->add_option("--format", opts->format, "py: Python text (mmcv pretty_text style); json: tuples as {\"__tuple__\": [...]}")
      ->check(CLI::IsMember({"py", "json"}));
  cmd->callback([opts] {
    config::Value cfg = config::load_config(opts->config, opts->cfg_options);
    std::cout << (opts->format == "json" ? config::dump_json(cfg) : config::dump_python(cfg));
  });
}

}  // namespace cppdet::tools
