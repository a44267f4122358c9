#pragma once
// What `cppdet test` and `cppdet eval-results` share: the evaluation keyword arguments as
// tools/test.py assembles them, and the result handling after inference (--out,
// --format-only, --eval) with mmdet's printed output.
#include <memory>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/data/datasets/detection_dataset.h"

namespace cppdet::tools {

struct ResultActions {
  std::string out;                        // --out FILE.json ("" = none)
  std::vector<std::string> eval;          // --eval METRIC...
  bool format_only = false;               // --format-only
  std::vector<std::string> eval_options;  // --eval-options k=v ...
  std::string work_dir;                   // --work-dir: eval_<timestamp>.json
  std::string config_path;                // for the eval json
};

// --out must end with .json; --eval and --format-only exclude each other. UserError otherwise.
void check_result_actions(const ResultActions& actions);

// test.py's eval kwargs: cfg.evaluation minus the EvalHook keys, metric = --eval, then
// --eval-options on top.
config::Dict test_eval_kwargs(const config::Value& cfg, const ResultActions& actions);

// Writes --out, runs format_results (--format-only) or evaluate (--eval) and prints the
// metric dict as Python prints mmdet's OrderedDict.
void handle_results(const config::Value& cfg, const data::DetectionDataset& dataset,
                    const std::vector<data::ImageDetections>& results, const ResultActions& actions);

// Python's repr of an OrderedDict: OrderedDict([('bbox_mAP', 0.374), ...]).
std::string ordered_dict_repr(const config::Dict& dict);

}  // namespace cppdet::tools
