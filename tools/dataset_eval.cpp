#include "dataset_eval.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cppdet/config/config_file.h"
#include "cppdet/config/python_repr.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/eval_options.h"
#include "cppdet/data/datasets/results_file.h"

namespace cppdet::tools {

void check_result_actions(const ResultActions& a) {
  if (!a.out.empty() && std::filesystem::path(a.out).extension() != ".json")
    throw UserError("--out " + a.out + ": the results file must end with .json (cppdet writes its results as JSON, "
                    "not as a pickle)");
  if (a.format_only && !a.eval.empty()) throw UserError("--eval and --format-only cannot be both specified");
}

config::Dict test_eval_kwargs(const config::Value& cfg, const ResultActions& actions) {
  config::Dict kwargs;
  if (const config::Value* ev = cfg.as_dict().find("evaluation"); ev && ev->is_dict()) kwargs = ev->as_dict();
  for (const char* key : {"interval", "tmpdir", "start", "gpu_collect", "save_best", "rule", "dynamic_intervals", "by_epoch"})
    kwargs.erase(key);
  if (!actions.eval.empty()) {
    config::List metrics;
    for (const std::string& m : actions.eval) metrics.push_back(config::Value(m));
    kwargs.set("metric", config::Value::list(std::move(metrics)));
  }
  const config::Dict options = config::parse_cfg_options(actions.eval_options);
  for (size_t i = 0; i < options.size(); ++i) kwargs.set(options.keys()[i], options.values()[i]);
  return kwargs;
}

std::string ordered_dict_repr(const config::Dict& dict) {
  if (dict.empty()) return "OrderedDict()";
  std::string s = "OrderedDict([";
  for (size_t i = 0; i < dict.size(); ++i)
    s += (i ? ", (" : "(") + config::python_str_repr(dict.keys()[i]) + ", " + config::python_repr(dict.values()[i]) + ")";
  return s + "])";
}

namespace {

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

}  // namespace

void handle_results(const config::Value& cfg, const data::DetectionDataset& dataset,
                    const std::vector<data::ImageDetections>& results, const ResultActions& actions) {
  if (!actions.out.empty()) {
    std::cout << "\nwriting results to " << actions.out << "\n";
    data::write_results_file(actions.out, dataset, results);
  }
  const config::Dict option_kwargs = config::parse_cfg_options(actions.eval_options);
  if (actions.format_only) {
    const data::EvalOptions o = data::eval_options_from_dict(option_kwargs, "--eval-options");
    if (o.jsonfile_prefix.empty())
      throw UserError("--format-only needs --eval-options jsonfile_prefix=PREFIX (the files are PREFIX.bbox.json, "
                      "PREFIX.segm.json)");
    for (const std::string& path : dataset.format_results(results, o.jsonfile_prefix))
      std::cout << "wrote " << path << "\n";
  }
  if (!actions.eval.empty()) {
    const config::Dict kwargs = test_eval_kwargs(cfg, actions);
    const data::EvalOptions o = data::eval_options_from_dict(kwargs, "evaluation");
    const config::Dict metrics = dataset.evaluate(results, o, &std::cout);
    std::cout << ordered_dict_repr(metrics) << std::endl;
    if (!actions.work_dir.empty()) {
      std::filesystem::create_directories(actions.work_dir);
      config::Dict record;
      record.set("config", actions.config_path);
      record.set("metric", metrics);
      const std::string path = (std::filesystem::path(actions.work_dir) / ("eval_" + timestamp() + ".json")).string();
      write_file_atomically(path, [&](std::ostream& out) { out << config::dump_json(config::Value(record)) << "\n"; });
    }
  }
}

}  // namespace cppdet::tools
