#pragma once
// The training entry (mmdet.apis.train_detector + the work-dir set-up of tools/train.py):
// everything but building the model and the dataset, which the caller does.
//
//   engine::TrainInputs in{model, [&](const DetBatch& b) { return model->forward_train(b); },
//                          train_dataset, classes, evaluate_fn};
//   engine::TrainOptions opt; opt.work_dir = "work_dirs/faster_rcnn_r50_fpn_1x_coco";
//   opt.config_text = config::dump_python(cfg); opt.config_name = "faster_rcnn_r50_fpn_1x_coco.py";
//   engine::train_detector(cfg, in, opt);
//
// Config keys used: optimizer, optimizer_config, lr_config, runner (or total_epochs),
// checkpoint_config, log_config, evaluation, data.samples_per_gpu / workers_per_gpu (and
// data.train_dataloader), auto_scale_lr, workflow, custom_hooks, resume_from, load_from,
// find_unused_parameters, fp16.
//
// Distributed (options.group with several ranks; mmdet's train_detector with
// distributed=True): each rank loads samples_per_gpu images per iteration through a
// GroupSampler over its share of the data (DistributedSampler with shuffle=False), the
// random transforms seeded with seed + rank; gradients are averaged over the ranks, rank 0
// logs and writes checkpoints, the EvalHook evaluates on every rank's share and rank 0
// reports; every rank resumes from the checkpoint rank 0 picks.
// Work dir: <config_name> (the merged config), <timestamp>.log, <timestamp>.log.json,
// epoch_N.pth, latest.pth -> epoch_N.pth (relative symlink), best_<metric>_epoch_N.pth.
#include <torch/nn/module.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/data/loader/indexed_dataset.h"
#include "cppdet/distributed/process_group.h"
#include "cppdet/engine/hooks/eval_hook.h"
#include "cppdet/engine/runner.h"
#include "cppdet/engine/train_step.h"

namespace cppdet::engine {

struct TrainInputs {
  std::shared_ptr<torch::nn::Module> model;      // on its training device, weights initialised
  ForwardTrain forward_train;                    // the model's losses for a batch
  std::shared_ptr<const data::IndexedDataset> train_dataset;
  std::vector<std::string> classes;              // saved in every checkpoint's meta.CLASSES
  EvalFn evaluate;                               // empty: no EvalHook
};

struct TrainOptions {
  std::string work_dir;                     // required
  std::optional<std::string> resume_from;   // overrides cfg.resume_from
  bool auto_resume = false;                 // resume from work_dir/latest.pth when present
  std::optional<std::string> load_from;     // overrides cfg.load_from (weights only)
  bool validate = true;                     // false: no EvalHook (--no-validate)
  int64_t seed = 0;
  bool deterministic = false;
  bool auto_scale_lr = false;               // lr *= samples_per_gpu / auto_scale_lr.base_batch_size
  std::string config_text;                  // the merged config as Python text (dumped, logged, in meta)
  std::string config_name = "config.py";    // its file name in the work dir (exp_name)
  std::string env_info;                     // "" = a short LibTorch / cppdet summary
  std::string timestamp;                    // "" = now, %Y%m%d_%H%M%S
  bool log_to_stdout = true;
  std::shared_ptr<distributed::ProcessGroup> group;  // a distributed run's group; null: one process
};

// Builds the optimizer, hooks, loader and runner from `cfg`, resumes or loads weights as
// asked, and trains. Returns RunStatus::Interrupted after a Ctrl-C (interrupted.pth written).
// Throws ConfigError for bad config values, NonFiniteLossError when a loss goes NaN/inf.
RunStatus train_detector(const config::Value& cfg, const TrainInputs& inputs, const TrainOptions& options);

// The (samples_per_gpu, workers_per_gpu) a config's training loader uses.
std::pair<int64_t, int64_t> train_loader_sizes(const config::Value& cfg);

}  // namespace cppdet::engine
