// `cppdet test CONFIG CHECKPOINT [--out R.json] [--eval bbox segm] [--format-only] [--show-dir D]
// [--fuse-conv-bn] [--launcher none|pytorch|slurm]`:
// MMDetection's tools/test.py — the model over every image of data.test (test mode, one image
// at a time, the config's test pipeline), a progress bar, then the results written,
// formatted or evaluated by the dataset. Distributed (multi_gpu_test): each rank tests its
// share of the images, the results are gathered on rank 0 in dataset order, and rank 0
// alone writes, formats or evaluates them.
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "command.h"
#include "cppdet/apis/inference.h"
#include "cppdet/apis/show_result.h"
#include "cppdet/apis/test.h"
#include "cppdet/core/error.h"
#include "cppdet/core/progress_bar.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/models/common/fuse_conv_bn.h"
#include "cppdet/models/detector.h"
#include "dataset_eval.h"
#include "launch.h"

namespace cppdet::tools {
namespace {

struct TestOptions {
  std::string config, checkpoint, show_dir, device = "cpu", precision = "fp32";
  double show_score_thr = 0.3;
  bool fuse_conv_bn = false;
  std::vector<std::string> cfg_options;
  ResultActions actions;
  LaunchOptions launch;
  bool gpu_collect = false;  // accepted for mmdet's command lines: results always go through the group
  std::string tmpdir;
};

const config::Value& test_dataset_config(const config::Value& cfg) {
  const config::Value* data = cfg.as_dict().find("data");
  const config::Value* test = (data && data->is_dict()) ? data->as_dict().find("test") : nullptr;
  if (!test) throw ConfigError("data.test: required by `cppdet test` but missing from the config");
  return *test;
}

// The model's result for dataset image `index` (test pipeline, batch of one, rescale=True).
DetResult run_one(const apis::InferenceModel& model, const data::DetectionDataset& dataset, size_t index) {
  std::vector<data::Sample> samples = dataset.prepare(index);
  if (samples.size() != 1)
    throw UserError("the test pipeline produced " + std::to_string(samples.size()) +
                    " augmented copies of an image; test-time augmentation is not supported "
                    "(use one img_scale and flip=False in MultiScaleFlipAug)");
  if (samples[0].inputs.scalar_type() != torch::kFloat32) samples[0].inputs = samples[0].inputs.to(torch::kFloat32);
  DetBatch batch = data::collate(std::move(samples));
  torch::NoGradGuard no_grad;
  return std::move(model.detector->simple_test(batch.img.to(torch::Device(model.device)), batch.metas, true).at(0));
}

void run_test(const TestOptions& o) {
  const ResultActions& actions = o.actions;
  if (actions.out.empty() && actions.eval.empty() && !actions.format_only && o.show_dir.empty())
    throw UserError("specify at least one operation (save / eval / format / show the results) with --out, --eval, "
                    "--format-only or --show-dir");
  check_result_actions(actions);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.checkpoint, ec)) throw UserError("checkpoint file not found: " + o.checkpoint);
  configure_threads();
  const config::Value cfg = load_config_and_plugins(o.config, o.cfg_options);
  const Launched launched = launch(o.launch, cfg, o.device);
  distributed::ProcessGroup* group = launched.group.get();
  std::shared_ptr<data::DetectionDataset> dataset = data::build_dataset(test_dataset_config(cfg), true, "data.test");
  apis::InferenceModel model = apis::init_detector(cfg, o.checkpoint, launched.device, models::parse_precision(o.precision));
  if (o.fuse_conv_bn) models::fuse_conv_bn(*model.detector);

  const std::vector<size_t> mine = apis::test_indices(dataset->size(), group);
  const bool master = !group || group->is_master();
  const size_t world = group ? static_cast<size_t>(group->world_size()) : 1;
  std::vector<data::ImageDetections> part;
  part.reserve(mine.size());
  // mmdet's multi_gpu_test: rank 0's bar counts every rank's images (world size per step).
  std::optional<ProgressBar> progress;
  if (master) progress.emplace(dataset->size());
  for (size_t i : mine) {
    DetResult result = run_one(model, *dataset, i);
    if (!o.show_dir.empty()) {
      const data::ImageInfo& info = dataset->image_info(i);
      const std::string image = dataset->options().img_prefix.empty()
                                    ? info.filename
                                    : (std::filesystem::path(dataset->options().img_prefix) / info.filename).string();
      apis::ShowOptions show;
      show.draw.score_thr = o.show_score_thr;
      show.out_file = (std::filesystem::path(o.show_dir) / info.filename).string();
      apis::show_result(model, image, result, show);
    }
    part.push_back(data::encode_detections(result));
    if (progress) progress->update(std::min(world, dataset->size() - progress->completed()));
  }
  if (progress) progress->finish();
  const std::vector<data::ImageDetections> results = apis::collect_results(std::move(part), dataset->size(), group);
  if (master) handle_results(cfg, *dataset, results, actions);
}

}  // namespace

void register_test(CLI::App& app) {
  auto o = std::make_shared<TestOptions>();
  CLI::App* cmd = app.add_subcommand("test", "run a checkpoint over the config's test dataset and evaluate (mmdet tools/test.py)");
  cmd->add_option("config", o->config, "config file (.py, .json, .yaml)")->required();
  cmd->add_option("checkpoint", o->checkpoint, "checkpoint file (.pth)")->required();
  cmd->add_option("--out", o->actions.out, "write the raw results to this .json file (see docs/testing.md)");
  cmd->add_option("--eval", o->actions.eval, "metrics: bbox segm proposal proposal_fast (COCO), mAP recall (VOC)")
      ->expected(1, -1);
  cmd->add_flag("--format-only", o->actions.format_only,
                "only write the dataset's result files (COCO: PREFIX.bbox.json / PREFIX.segm.json; needs "
                "--eval-options jsonfile_prefix=PREFIX)");
  cmd->add_option("--eval-options", o->actions.eval_options,
                  "evaluation arguments key=value: classwise=True jsonfile_prefix=P iou_thrs=... proposal_nums=... "
                  "metric_items=...")
      ->expected(1, -1);
  cmd->add_option("--show-dir", o->show_dir, "write each image with its detections drawn to DIR/<file name>");
  cmd->add_option("--show-score-thr", o->show_score_thr, "score threshold for --show-dir (default 0.3)");
  cmd->add_option("--work-dir", o->actions.work_dir, "write the metrics to WORK_DIR/eval_<timestamp>.json");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_flag("--fuse-conv-bn", o->fuse_conv_bn, "fold each BatchNorm into the convolution before it (faster)");
  add_precision_option(*cmd, o->precision);
  add_cfg_options(*cmd, o->cfg_options);
  add_launch_options(*cmd, o->launch);
  cmd->add_flag("--gpu-collect", o->gpu_collect, "accepted for mmdet's command lines (results are always gathered "
                                                  "through the process group)");
  cmd->add_option("--tmpdir", o->tmpdir, "accepted for mmdet's command lines (unused, see --gpu-collect)");
  cmd->callback([o] {
    o->actions.config_path = o->config;
    run_test(*o);
  });
}

}  // namespace cppdet::tools
