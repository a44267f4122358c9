#include "cppdet/engine/train.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <filesystem>

#include "cppdet/config/reader.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/data/samplers/distributed_sampler.h"
#include "cppdet/data/samplers/group_sampler.h"
#include "cppdet/engine/hooks/checkpoint_hook.h"
#include "cppdet/engine/hooks/fp16_optimizer_hook.h"
#include "cppdet/engine/hooks/iter_timer_hook.h"
#include "cppdet/engine/hooks/lr_updater_hook.h"
#include "cppdet/engine/hooks/optimizer_hook.h"
#include "cppdet/engine/hooks/text_logger_hook.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/version.h"

namespace fs = std::filesystem;

namespace cppdet::engine {
namespace {

const config::Value* find_key(const config::Value& cfg, const std::string& key) {
  const config::Value* v = cfg.as_dict().find(key);
  return (v && !v->is_none()) ? v : nullptr;
}

std::string default_env_info() {
  std::string info = "sys.platform: linux\n";
  info += "LibTorch: " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
          std::to_string(TORCH_VERSION_PATCH) + "\n";
  info += "CUDA available: " + std::string(torch::cuda::is_available() ? "True" : "False") + "\n";
  info += "Threads: " + std::to_string(at::get_num_threads()) + "\n";
  info += std::string("cppdet: ") + kVersion;
  return info;
}

// runner = dict(type='EpochBasedRunner', max_epochs=N) | dict(type='IterBasedRunner', max_iters=N),
// or the legacy total_epochs = N.
void read_runner(const config::Value& cfg, RunnerOptions& o) {
  if (const config::Value* runner = find_key(cfg, "runner")) {
    config::ConfigReader r(*runner, "runner");
    const std::string type = r.get_string("type");
    if (type == "EpochBasedRunner") {
      o.by_epoch = true;
      o.max_epochs = r.get_int("max_epochs");
    } else if (type == "IterBasedRunner") {
      o.by_epoch = false;
      o.max_iters = r.get_int("max_iters");
    } else {
      throw ConfigError("runner.type: '" + type + "' is not supported (EpochBasedRunner, IterBasedRunner)");
    }
    r.finish();
  } else if (const config::Value* total = find_key(cfg, "total_epochs")) {
    o.by_epoch = true;
    o.max_epochs = total->as_int();
  } else {
    throw ConfigError("runner: missing (e.g. runner = dict(type='EpochBasedRunner', max_epochs=12))");
  }
}

TextLoggerOptions read_log_config(const config::Value& log_config, bool by_epoch, RunLogger& logger) {
  config::ConfigReader r(log_config, "log_config");
  TextLoggerOptions o;
  o.interval = r.get_int("interval", 10);
  o.by_epoch = by_epoch;
  if (o.interval <= 0) throw ConfigError("log_config.interval: must be positive");
  if (const config::Value* hooks = r.get_optional("hooks")) {
    const config::List& list = hooks->as_sequence();
    for (size_t i = 0; i < list.size(); ++i) {
      config::ConfigReader h(list[i], "log_config.hooks[" + std::to_string(i) + "]");
      const std::string type = h.get_string("type");
      if (type != "TextLoggerHook") {
        logger.warning("log_config.hooks[" + std::to_string(i) + "]: " + type + " is not supported; skipped");
        continue;
      }
      o.by_epoch = h.get_bool("by_epoch", by_epoch);
      o.ignore_last = h.get_bool("ignore_last", true);
      o.interval_exp_name = h.get_int("interval_exp_name", 1000);
      o.interval = h.get_int("interval", o.interval);
      h.ignore({"reset_flag", "out_dir", "out_suffix", "keep_local", "file_client_args"});
      h.finish();
    }
  }
  r.ignore({"by_epoch"});
  r.finish();
  return o;
}

}  // namespace

std::pair<int64_t, int64_t> train_loader_sizes(const config::Value& cfg) {
  int64_t spg = 2, workers = 2;
  if (const config::Value* data = find_key(cfg, "data")) {
    if (const config::Value* v = find_key(*data, "samples_per_gpu")) spg = v->as_int();
    if (const config::Value* v = find_key(*data, "workers_per_gpu")) workers = v->as_int();
    if (const config::Value* t = find_key(*data, "train_dataloader")) {
      if (const config::Value* v = find_key(*t, "samples_per_gpu")) spg = v->as_int();
      if (const config::Value* v = find_key(*t, "workers_per_gpu")) workers = v->as_int();
    }
  }
  if (spg <= 0) throw ConfigError("data.samples_per_gpu: must be positive");
  if (workers < 0) throw ConfigError("data.workers_per_gpu: must not be negative");
  return {spg, workers};
}

RunStatus train_detector(const config::Value& cfg, const TrainInputs& inputs, const TrainOptions& options) {
  if (!cfg.is_dict()) throw ConfigError("config: expected a dict");
  if (options.work_dir.empty()) throw UserError("train: a work dir is required");
  if (!inputs.model || !inputs.forward_train || !inputs.train_dataset)
    throw std::invalid_argument("train_detector: model, forward_train and train_dataset are required");

  distributed::ProcessGroup* group = options.group.get();
  const bool master = !group || group->is_master();
  const int64_t world_size = group ? group->world_size() : 1;
  const int64_t rank = group ? group->rank() : 0;
  std::error_code ec;
  fs::create_directories(options.work_dir, ec);
  if (ec) throw FileFormatError(options.work_dir + ": cannot create the work dir: " + ec.message());
  // Every rank names its files with rank 0's time stamp; only rank 0 writes them.
  std::string timestamp = options.timestamp.empty() ? timestamp_now() : options.timestamp;
  if (group) timestamp = group->broadcast_string(timestamp);
  auto logger = std::make_shared<RunLogger>(options.log_to_stdout, /*errors_only=*/!master);
  if (master) logger->attach_file((fs::path(options.work_dir) / (timestamp + ".log")).string());
  if (master && !options.config_text.empty())
    write_file_atomically((fs::path(options.work_dir) / options.config_name).string(),
                          [&](std::ostream& out) { out << options.config_text; });

  const std::string env_info = options.env_info.empty() ? default_env_info() : options.env_info;
  const std::string dashes(61, '-');
  logger->info("Environment info:\n" + dashes + "\n" + env_info + "\n" + dashes + "\n");
  logger->info(std::string("Distributed training: ") + (world_size > 1 ? "True" : "False"));
  if (group)
    logger->info("Process group: backend " + group->backend() + ", world size " + std::to_string(world_size));
  if (!options.config_text.empty()) logger->info("Config:\n" + options.config_text);
  torch::manual_seed(static_cast<uint64_t>(options.seed));
  if (options.deterministic) {
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  logger->info("Set random seed to " + std::to_string(options.seed) +
               ", deterministic: " + (options.deterministic ? "True" : "False"));

  // --- runner and optimizer ---
  RunnerOptions ro;
  read_runner(cfg, ro);
  ro.work_dir = options.work_dir;
  ro.classes = inputs.classes;
  ro.group = options.group;
  if (const config::Value* fu = find_key(cfg, "find_unused_parameters"))
    ro.data_parallel.find_unused_parameters = fu->as_bool();
  ro.meta.set("env_info", env_info);
  ro.meta.set("config", options.config_text);
  ro.meta.set("seed", options.seed);
  ro.meta.set("exp_name", options.config_name);
  if (const config::Value* wf = find_key(cfg, "workflow")) {
    for (const config::Value& phase : wf->as_sequence())
      if (phase.is_sequence() && !phase.as_sequence().empty() && phase.as_sequence()[0].is_string() &&
          phase.as_sequence()[0].as_string() != "train")
        logger->warning("workflow: only ('train', N) phases run; '" + phase.as_sequence()[0].as_string() +
                        "' is skipped (validation runs through the `evaluation` hook)");
  }

  const auto [samples_per_gpu, workers_per_gpu] = train_loader_sizes(cfg);
  const config::Value* optimizer_cfg = find_key(cfg, "optimizer");
  if (!optimizer_cfg) throw ConfigError("optimizer: missing");
  OptimizerOptions oo = optimizer_from_config(*optimizer_cfg);
  if (const config::Value* scale = find_key(cfg, "auto_scale_lr")) {
    config::ConfigReader r(*scale, "auto_scale_lr");
    const bool enable = r.get_bool("enable", false) || options.auto_scale_lr;
    const int64_t base = r.get_int("base_batch_size", 16);
    r.finish();
    if (enable) {
      // mmdet: the total batch is the number of processes times samples_per_gpu.
      const int64_t batch = world_size * samples_per_gpu;
      logger->info("Training with " + std::to_string(world_size) + " process(es) with " +
                   std::to_string(samples_per_gpu) + " samples per process. The total batch size is " +
                   std::to_string(batch) + ".");
      const double factor = static_cast<double>(batch) / static_cast<double>(base);
      logger->info("LR has been automatically scaled from " + std::to_string(oo.lr) + " to " +
                   std::to_string(oo.lr * factor));
      oo.lr *= factor;
    }
  } else if (options.auto_scale_lr) {
    throw ConfigError("auto_scale_lr: --auto-scale-lr needs auto_scale_lr.base_batch_size in the config");
  }
  auto optimizer = std::make_unique<Optimizer>(*inputs.model, oo);

  // fp16 = dict(loss_scale=...): mmcv's Fp16OptimizerHook and an autocast forward (CUDA only).
  std::optional<Fp16Options> fp16;
  if (const config::Value* f = find_key(cfg, "fp16")) {
    fp16 = fp16_from_config(*f);
    const std::vector<torch::Tensor> params = inputs.model->parameters();
    if (params.empty() || !params.front().is_cuda())
      throw UserError("fp16: mixed-precision training needs a CUDA device (--device cuda); LibTorch has no fp16 "
                      "autocast for the CPU. On the CPU train in fp32: remove `fp16` from the config or pass "
                      "--cfg-options fp16=None");
  }
  ForwardTrain forward = fp16 ? autocast_forward(inputs.forward_train) : inputs.forward_train;
  Runner runner(inputs.model, forward, std::move(optimizer), logger, ro);

  // --- hooks, in mmcv's registration order (the runner sorts by priority) ---
  if (const config::Value* lr = find_key(cfg, "lr_config"))
    runner.register_hook(std::make_unique<LrUpdaterHook>(LrSchedule(lr_schedule_from_config(*lr))));
  std::optional<GradClipOptions> clip;
  if (const config::Value* oc = find_key(cfg, "optimizer_config")) clip = grad_clip_from_config(*oc);
  if (fp16)
    runner.register_hook(std::make_unique<Fp16OptimizerHook>(clip, *fp16));
  else
    runner.register_hook(std::make_unique<OptimizerHook>(clip));
  if (const config::Value* cc = find_key(cfg, "checkpoint_config")) {
    CheckpointHookOptions co = checkpoint_hook_from_config(*cc);
    co.meta.set("cppdet_version", kVersion);
    config::List classes;
    for (const std::string& c : inputs.classes) classes.emplace_back(c);
    co.meta.set("CLASSES", config::Value::tuple(classes));
    runner.register_hook(std::make_unique<CheckpointHook>(co));
  }
  runner.register_hook(std::make_unique<IterTimerHook>());
  if (const config::Value* lc = find_key(cfg, "log_config")) {
    TextLoggerOptions to = read_log_config(*lc, ro.by_epoch, *logger);
    to.json_path = (fs::path(options.work_dir) / (timestamp + ".log.json")).string();
    runner.register_hook(std::make_unique<TextLoggerHook>(to));
  }
  if (const config::Value* custom = find_key(cfg, "custom_hooks")) {
    for (const config::Value& h : custom->as_sequence()) {
      const config::Value* type = h.is_dict() ? h.as_dict().find("type") : nullptr;
      const std::string name = type && type->is_string() ? type->as_string() : h.brief();
      if (name != "NumClassCheckHook") logger->warning("custom_hooks: " + name + " is not supported; skipped");
    }
  }
  if (options.validate && inputs.evaluate) {
    EvalHookOptions eo = find_key(cfg, "evaluation") ? eval_hook_from_config(*find_key(cfg, "evaluation")) : EvalHookOptions{};
    eo.by_epoch = ro.by_epoch && eo.by_epoch;
    runner.register_hook(std::make_unique<EvalHook>(eo, inputs.evaluate));
  }

  // --- resume / load ---
  std::optional<std::string> resume_from = options.resume_from;
  if (!resume_from)
    if (const config::Value* r = find_key(cfg, "resume_from")) resume_from = r->as_string();
  if (!resume_from && options.auto_resume) {
    resume_from = find_latest_checkpoint(options.work_dir);
    // Every rank resumes from the checkpoint rank 0 found ("" = none).
    if (group) {
      const std::string chosen = group->broadcast_string(resume_from.value_or(""));
      resume_from = chosen.empty() ? std::nullopt : std::optional<std::string>(chosen);
    }
    if (!resume_from) logger->info("auto-resume: no checkpoint in " + options.work_dir + "; starting from scratch");
  }
  std::optional<std::string> load_from = options.load_from;
  if (!load_from)
    if (const config::Value* l = find_key(cfg, "load_from")) load_from = l->as_string();
  if (resume_from) {
    logger->info("resume from " + *resume_from);
    runner.resume(*resume_from);
  } else if (load_from) {
    logger->info("load checkpoint from local path: " + *load_from);
    const io::LoadReport report = io::load_state_dict(*inputs.model, io::read_checkpoint(*load_from).state_dict, false);
    if (!report.exact()) logger->warning(report.message());
  }

  // --- data ---
  const data::IndexedDataset& dataset = *inputs.train_dataset;
  std::vector<uint8_t> flags(dataset.size());
  for (size_t i = 0; i < flags.size(); ++i) flags[i] = dataset.group_flag(i);
  // data.train_dataloader.shuffle=False (mmdet's build_dataloader argument): dataset order.
  bool shuffle = true;
  if (const config::Value* data = find_key(cfg, "data"))
    if (const config::Value* t = find_key(*data, "train_dataloader"))
      if (const config::Value* v = find_key(*t, "shuffle")) shuffle = v->as_bool();
  std::shared_ptr<data::Sampler> sampler;
  if (shuffle)
    sampler = std::make_shared<data::GroupSampler>(std::move(flags), samples_per_gpu, options.seed, world_size, rank);
  else if (world_size > 1)
    sampler = std::make_shared<data::DistributedSampler>(dataset.size(), world_size, rank, /*shuffle=*/false, options.seed);
  else
    sampler = std::make_shared<data::SequentialSampler>(dataset.size());
  data::DataLoaderOptions lo;
  lo.samples_per_gpu = samples_per_gpu;
  lo.workers_per_gpu = workers_per_gpu;
  // mmdet's worker_init_fn seeds each rank's loader differently (num_workers * rank + ...).
  lo.seed = static_cast<uint64_t>(options.seed + rank);
  data::DataLoader loader(inputs.train_dataset, sampler, lo);
  return runner.run(loader);
}

}  // namespace cppdet::engine
