// `cppdet eval-coco GT.json RESULTS.json --iou-type bbox|segm|proposal`: pycocotools' COCOeval on
// COCO files, printing its 12 summary lines (and, with --classwise, mmdet's per-class AP table).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/coco_json.h"
#include "cppdet/evaluation/coco_params_json.h"
#include "cppdet/evaluation/mmdet_coco_metrics.h"

namespace cppdet::tools {
namespace {

struct EvalCocoOptions {
  std::string gt_path;
  std::string results_path;
  std::string iou_type = "bbox";
  bool classwise = false;
  std::string params;  // inline JSON object, or a path to a file holding one
  std::string json_out;
};

std::string full_precision(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void run_eval_coco(const EvalCocoOptions& o) {
  using namespace cppdet::evaluation;
  CocoEvalParams params = o.iou_type == "proposal" ? CocoEvalParams::proposal()
                                                    : CocoEvalParams::defaults(o.iou_type == "segm" ? IouType::kSegm
                                                                                                    : IouType::kBbox);
  if (!o.params.empty()) {
    const bool inline_json = o.params.find_first_not_of(" \t\r\n") != std::string::npos &&
                             o.params[o.params.find_first_not_of(" \t\r\n")] == '{';
    params = inline_json ? apply_params_json(o.params, "--params", params)
                         : apply_params_json(read_file(o.params), o.params, params);
  }
  const CocoGroundTruth gt = load_coco_ground_truth(o.gt_path);
  const CocoResults dt = load_coco_results(o.results_path, gt);
  CocoEvaluator ev(gt, dt, params);
  ev.evaluate();
  ev.accumulate();
  ev.summarize();
  for (const std::string& line : ev.summary_lines()) std::cout << line << "\n";
  if (o.classwise) std::cout << "\n" << classwise_ap_table(ev, gt) << "\n";
  std::cout.flush();
  if (!o.json_out.empty()) {
    write_file_atomically(o.json_out, [&](std::ostream& out) {
      out << "{\"stats\": [";
      for (size_t i = 0; i < ev.stats().size(); ++i) out << (i ? ", " : "") << full_precision(ev.stats()[i]);
      out << "], \"per_category\": {";
      const auto per_cat = ev.per_category_ap();
      for (size_t k = 0; k < per_cat.size(); ++k) {
        const CategoryAp& c = per_cat[k];
        out << (k ? ", " : "") << "\"" << c.category_id << "\": {\"ap\": " << full_precision(c.ap)
            << ", \"ap50\": " << full_precision(c.ap50) << ", \"ap75\": " << full_precision(c.ap75) << "}";
      }
      out << "}}\n";
    });
  }
}

}  // namespace

void register_eval_coco(CLI::App& app) {
  auto opts = std::make_shared<EvalCocoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "eval-coco", "evaluate COCO results (pycocotools loadRes format) against COCO ground truth, as pycocotools' COCOeval");
  cmd->add_option("gt", opts->gt_path, "COCO annotation file (ground truth)")->required();
  cmd->add_option("results", opts->results_path, "results file: a JSON array of detections")->required();
  cmd->add_option("--iou-type", opts->iou_type, "bbox, segm, or proposal (bbox with useCats=0, maxDets=[100,300,1000])")
      ->check(CLI::IsMember({"bbox", "segm", "proposal"}));
  cmd->add_flag("--classwise", opts->classwise, "also print the per-category AP table");
  cmd->add_option("--params", opts->params,
                  "COCOeval params to override, as a JSON object or a file holding one, e.g. "
                  "'{\"useCats\": 0, \"maxDets\": [1, 10, 100], \"iouThrs\": [0.5]}'");
  cmd->add_option("--json", opts->json_out, "write {\"stats\": [...], \"per_category\": {...}} here (full precision)");
  cmd->callback([opts] { run_eval_coco(*opts); });
}

}  // namespace cppdet::tools
