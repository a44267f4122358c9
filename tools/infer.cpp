// `cppdet infer CONFIG CHECKPOINT IMG... --out results.json`: detections for image files in
// the JSON layout of the MMDetection oracle's outputs.json (docs/inference.md).
#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "cppdet/apis/inference.h"
#include "cppdet/apis/results_json.h"
#include "cppdet/core/progress_bar.h"
#include "cppdet/models/detector.h"

namespace cppdet::tools {

void register_infer(CLI::App& app) {
  struct Options {
    std::string config, checkpoint, out, device = "cpu", precision = "fp32";
    std::vector<std::string> images, cfg_options;
    bool stats = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("infer", "detect objects in images and write the results as JSON");
  cmd->add_option("config", opts->config, "config file (.py, .json, .yaml), e.g. an oracle case's config.py")->required();
  cmd->add_option("checkpoint", opts->checkpoint, "checkpoint file (.pth)")->required();
  cmd->add_option("images", opts->images, "image files")->required();
  cmd->add_option("--out", opts->out, "output JSON file")->required();
  cmd->add_option("--device", opts->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_flag("--stats", opts->stats, "also write intermediate statistics (backbone, neck, RPN, RoI heads)");
  add_precision_option(*cmd, opts->precision);
  add_cfg_options(*cmd, opts->cfg_options);
  cmd->callback([opts] {
    configure_threads();
    apis::InferenceModel model = apis::init_detector(opts->config, opts->checkpoint, opts->device, opts->cfg_options,
                                                     models::parse_precision(opts->precision));
    apis::ResultsJsonWriter writer(model);
    ProgressBar progress(opts->images.size());
    int64_t detections = 0;
    for (const std::string& path : opts->images) {
      models::DebugTrace trace;
      apis::BatchInference out = apis::inference_batch(model, std::vector<std::string>{path}, opts->stats ? &trace : nullptr);
      for (const torch::Tensor& boxes : out.results[0].bboxes) detections += boxes.size(0);
      writer.add(std::filesystem::path(path).filename().string(), out.metas[0], out.results[0],
                 opts->stats ? &trace : nullptr);
      progress.update();
    }
    progress.finish();
    writer.write(opts->out);
    std::cout << "wrote " << opts->images.size() << " image(s), " << detections << " detection(s) to " << opts->out << "\n";
  });
}

}  // namespace cppdet::tools
