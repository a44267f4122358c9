// `cppdet train CONFIG [--work-dir D] [--resume-from CKPT] [--auto-resume] [--load-from CKPT]
// [--no-validate] [--seed N] [--diff-seed] [--deterministic] [--cfg-options ...]
// [--device cpu|cuda:N] [--auto-scale-lr] [--launcher none|pytorch|slurm]`: mmdet's
// tools/train.py. Joins the launcher's process group, builds the model (from-scratch
// initialisation), the training dataset (data.train) and, unless --no-validate, an
// evaluation of data.val run by the EvalHook, then trains with engine::train_detector. Work
// dir: --work-dir, else the config's work_dir, else work_dirs/<config stem>. Distributed, the
// seed is rank 0's (plus the rank with --diff-seed).
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>

#include "command.h"
#include "cppdet/apis/device.h"
#include "cppdet/apis/test.h"
#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/engine/train.h"
#include "cppdet/io/checkpoint.h"
#include "launch.h"
#include "train_common.h"

namespace cppdet::tools {
namespace {

namespace fs = std::filesystem;

// The EvalHook's evaluation: inference over data.val one image at a time (mmdet's
// single_gpu_test with rescale; multi_gpu_test over this rank's share, the results gathered
// on rank 0), then the dataset's evaluate with the hook's kwargs.
engine::EvalFn make_evaluation(std::shared_ptr<models::Detector> model, std::shared_ptr<data::DetectionDataset> val,
                               torch::Device device, std::shared_ptr<distributed::ProcessGroup> group) {
  return [model, val, device, group](const config::Dict& kwargs) {
    const data::EvalOptions options = data::eval_options_from_dict(kwargs, "evaluation");
    const std::vector<size_t> mine = apis::test_indices(val->size(), group.get());
    std::vector<data::ImageDetections> part;
    part.reserve(mine.size());
    for (size_t i : mine) {
      std::vector<data::Sample> samples{val->get(i, 0)};
      const DetBatch batch = data::collate(std::move(samples));
      const std::vector<DetResult> out = model->simple_test(batch.img.to(device), batch.metas, /*rescale=*/true);
      part.push_back(data::encode_detections(out.at(0)));
    }
    const std::vector<data::ImageDetections> results = apis::collect_results(std::move(part), val->size(), group.get());
    engine::EvalResults er;
    er.num_iters = static_cast<int64_t>(mine.size());
    if (group && !group->is_master()) return er;
    std::ostringstream log;
    er.metrics = val->evaluate(results, options, &log);
    std::cout << log.str() << std::flush;
    return er;
  };
}

// The seed saved in the checkpoint this run resumes from (cfg.resume_from, else with
// --auto-resume the work dir's latest one); nullopt when there is none or it has no seed.
std::optional<int64_t> seed_of_resumed_run(const config::Value& cfg, bool auto_resume, const std::string& work_dir) {
  std::optional<std::string> path;
  if (const config::Value* r = cfg.as_dict().find("resume_from"); r && r->is_string()) path = r->as_string();
  if (!path && auto_resume) path = engine::find_latest_checkpoint(work_dir);
  if (!path) return std::nullopt;
  const io::Checkpoint ckpt = io::read_checkpoint(*path);
  const config::Value* seed = ckpt.meta.is_dict() ? ckpt.meta.as_dict().find("seed") : nullptr;
  if (!seed || !seed->is_int()) return std::nullopt;
  return seed->as_int();
}

}  // namespace

void register_train(CLI::App& app) {
  struct Options {
    std::string config, work_dir, resume_from, load_from, device = "cpu";
    bool auto_resume = false, no_validate = false, deterministic = false, auto_scale_lr = false, diff_seed = false;
    std::optional<int64_t> seed;
    std::vector<std::string> cfg_options;
    LaunchOptions launch;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("train", "train a detector (mmdet tools/train.py)");
  cmd->add_option("config", o->config, "config file")->required();
  cmd->add_option("--work-dir", o->work_dir, "where logs and checkpoints go (default work_dirs/<config stem>)");
  cmd->add_option("--resume-from", o->resume_from, "resume model, optimizer, epoch and iteration from a checkpoint");
  cmd->add_flag("--auto-resume", o->auto_resume, "resume from the work dir's latest checkpoint when there is one");
  cmd->add_option("--load-from", o->load_from, "start from these weights (fine-tuning; mismatched tensors skipped)");
  cmd->add_flag("--no-validate", o->no_validate, "do not evaluate on data.val during training");
  cmd->add_option("--seed", o->seed, "random seed (default: the resumed checkpoint's, else a random one; logged)");
  cmd->add_flag("--diff-seed", o->diff_seed, "distributed: seed each rank with seed + rank");
  cmd->add_flag("--deterministic", o->deterministic, "deterministic cuDNN kernels");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_flag("--auto-scale-lr", o->auto_scale_lr,
                "scale optimizer.lr by samples_per_gpu / auto_scale_lr.base_batch_size");
  add_cfg_options(*cmd, o->cfg_options);
  add_launch_options(*cmd, o->launch);
  cmd->callback([o] {
    configure_threads();
    config::Value cfg = load_config_and_plugins(o->config, o->cfg_options);
    const Launched launched = launch(o->launch, cfg, apis::check_device(o->device));
    const std::string& device = launched.device;
    const std::shared_ptr<distributed::ProcessGroup>& group = launched.group;
    const fs::path config_path(o->config);
    std::string work_dir = o->work_dir;
    if (work_dir.empty())
      if (const config::Value* w = cfg.as_dict().find("work_dir"); w && w->is_string()) work_dir = w->as_string();
    if (work_dir.empty()) work_dir = (fs::path("work_dirs") / config_path.stem()).string();
    cfg.as_dict().set("work_dir", work_dir);
    if (!o->resume_from.empty()) cfg.as_dict().set("resume_from", o->resume_from);
    if (!o->load_from.empty()) cfg.as_dict().set("load_from", o->load_from);
    // Without --seed a resumed run keeps the seed of the run it continues (so the data order
    // and the random transforms continue as if uninterrupted); a fresh run draws one.
    // Distributed: rank 0 decides (mmdet's init_random_seed broadcasts rank 0's).
    int64_t seed = 0;
    if (!group || group->is_master()) {
      std::optional<int64_t> seed_opt = o->seed;
      if (!seed_opt) seed_opt = seed_of_resumed_run(cfg, o->auto_resume, work_dir);
      seed = seed_opt ? *seed_opt : static_cast<int64_t>(std::random_device{}() & 0x7fffffff);
    }
    if (group) seed = std::stoll(group->broadcast_string(std::to_string(seed)));
    if (group && o->diff_seed) seed += group->rank();

    std::shared_ptr<models::Detector> model = build_model_for_training(cfg, seed, device);
    const data::TrainDataset train_set = data::build_train_dataset(data_split(cfg, "train"), "data.train");
    if (train_set.dataset->size() == 0) throw UserError("data.train: no usable training images");
    if (model->num_classes() != static_cast<int64_t>(train_set.classes.size()))
      throw UserError("the model has " + std::to_string(model->num_classes()) + " classes but data.train has " +
                      std::to_string(train_set.classes.size()) +
                      "; set num_classes of the heads (or data.*.classes) to match");

    engine::TrainInputs in;
    in.model = model;
    const torch::Device dev(device);
    in.forward_train = [model, dev](const DetBatch& batch) { return model->forward_train(batch_to_device(batch, dev)); };
    in.train_dataset = train_set.dataset;
    in.classes = train_set.classes;
    if (!o->no_validate) {
      auto val_set = data::build_dataset(data_split(cfg, "val"), /*test_mode=*/true, "data.val");
      in.evaluate = make_evaluation(model, val_set, dev, group);
    }

    engine::TrainOptions opt;
    opt.work_dir = work_dir;
    if (!o->resume_from.empty()) opt.resume_from = o->resume_from;
    if (!o->load_from.empty()) opt.load_from = o->load_from;
    opt.auto_resume = o->auto_resume;
    opt.validate = !o->no_validate;
    opt.seed = seed;
    opt.deterministic = o->deterministic;
    opt.auto_scale_lr = o->auto_scale_lr;
    opt.config_text = config::dump_python(cfg);
    opt.config_name = config_path.filename().string();
    opt.group = group;
    const engine::RunStatus status = engine::train_detector(cfg, in, opt);
    if (status == engine::RunStatus::Interrupted)
      throw UserError("training interrupted; resume with --resume-from " + (fs::path(work_dir) / "interrupted.pth").string() +
                      " (or --auto-resume)");
  });
}

}  // namespace cppdet::tools
