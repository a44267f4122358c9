// `cppdet eval-results CONFIG RESULTS.json --eval bbox [--eval-options ...]`: evaluates (or
// formats) the results `cppdet test --out` wrote, against the config's test dataset, without
// running the model again.
#include <memory>

#include "command.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/datasets/results_file.h"
#include "dataset_eval.h"

namespace cppdet::tools {

void register_eval_results(CLI::App& app) {
  struct Options {
    std::string config, results;
    std::vector<std::string> cfg_options;
    ResultActions actions;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("eval-results", "evaluate the results file of `cppdet test --out` again");
  cmd->add_option("config", o->config, "the config the results were made with")->required();
  cmd->add_option("results", o->results, "results .json written by `cppdet test --out`")->required();
  cmd->add_option("--eval", o->actions.eval, "metrics: bbox segm proposal proposal_fast (COCO), mAP recall (VOC)")
      ->expected(1, -1);
  cmd->add_flag("--format-only", o->actions.format_only, "only write the dataset's result files (needs jsonfile_prefix)");
  cmd->add_option("--eval-options", o->actions.eval_options, "evaluation arguments key=value (as for `cppdet test`)")
      ->expected(1, -1);
  cmd->add_option("--work-dir", o->actions.work_dir, "write the metrics to WORK_DIR/eval_<timestamp>.json");
  add_cfg_options(*cmd, o->cfg_options);
  cmd->callback([o] {
    if (o->actions.eval.empty() && !o->actions.format_only) throw UserError("specify --eval METRIC... or --format-only");
    check_result_actions(o->actions);
    o->actions.config_path = o->config;
    const config::Value cfg = load_config_and_plugins(o->config, o->cfg_options);
    const config::Value* data = cfg.as_dict().find("data");
    const config::Value* test = (data && data->is_dict()) ? data->as_dict().find("test") : nullptr;
    if (!test) throw ConfigError("data.test: required by `cppdet eval-results` but missing from the config");
    auto dataset = data::build_dataset(*test, true, "data.test");
    const data::ResultsFile file = data::read_results_file(o->results);
    data::check_results_match(file, *dataset, o->results);
    handle_results(cfg, *dataset, file.results, o->actions);
  });
}

}  // namespace cppdet::tools
