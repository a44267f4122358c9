#pragma once
// mmcv's EpochBasedRunner / IterBasedRunner: the training loop that calls the model's
// forward_train on each batch and hands everything else (lr, optimizer step, checkpoints,
// logs, evaluation) to hooks.
//
// Epoch-based loop (mmcv 1.6):
//   before_run
//   for each epoch: model.train(); before_train_epoch;
//     for each batch: before_train_iter; forward_train + parse_losses; log_buffer.update;
//                     after_train_iter; iter += 1
//     after_train_epoch; epoch += 1
//   after_run
// The iteration-based loop runs max_iters iterations over consecutive epochs of the loader
// and never calls the *_train_epoch hooks.
//
// Positions (mmcv's): epoch() = completed epochs (0-based current epoch while training),
// iter() = completed global iterations, inner_iter() = index of the batch within its epoch.
// Checkpoints are written atomically (temporary file + rename), `latest.pth` is a relative
// symlink to the newest one, replaced atomically as well.
//
// Ctrl-C (SIGINT) while run() is active: the current iteration finishes, then the runner
// writes `interrupted.pth` (meta holds the position inside the epoch), points latest.pth at
// it, and run() returns RunStatus::Interrupted; resuming from it continues at the next batch
// of the same epoch. A second Ctrl-C terminates at once. A non-finite loss throws
// NonFiniteLossError before backward(), leaving every checkpoint as it was.
//
// Distributed (options.group set, several ranks): each rank trains on its own batches; the
// logged loss values are averaged over the ranks (reduce_log_vars), backward() averages
// the gradients (distributed/data_parallel.h, set up when run() starts), only rank 0 writes
// checkpoints and logs, and the ranks agree on Ctrl-C (an interrupt seen by any rank stops
// all of them after the same iteration).
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/data/loader/data_loader.h"
#include "cppdet/distributed/data_parallel.h"
#include "cppdet/engine/hook.h"
#include "cppdet/engine/log_buffer.h"
#include "cppdet/engine/lr_schedule.h"
#include "cppdet/engine/optimizer.h"
#include "cppdet/engine/run_logger.h"
#include "cppdet/engine/train_step.h"

namespace cppdet::engine {

enum class RunStatus { Completed, Interrupted };

struct RunnerOptions {
  bool by_epoch = true;    // EpochBasedRunner (max_epochs) or IterBasedRunner (max_iters)
  int64_t max_epochs = 0;
  int64_t max_iters = 0;
  std::string work_dir;
  // The runner meta (train.py's dict(env_info, config, seed, exp_name)); hook_msgs is added.
  config::Dict meta;
  std::vector<std::string> classes;  // saved as meta.CLASSES
  std::shared_ptr<distributed::ProcessGroup> group;  // null: one process
  distributed::DataParallelOptions data_parallel;     // with a group of several ranks
};

class Runner {
 public:
  Runner(std::shared_ptr<torch::nn::Module> model, ForwardTrain forward_train, std::unique_ptr<Optimizer> optimizer,
         std::shared_ptr<RunLogger> logger, RunnerOptions options);
  ~Runner();

  // Inserts a hook by priority (after hooks of equal priority).
  void register_hook(std::unique_ptr<Hook> hook);
  const std::vector<std::unique_ptr<Hook>>& hooks() const { return hooks_; }

  // Restores weights, optimizer state, epoch, iter, hook messages and the position inside an
  // interrupted epoch from a checkpoint written by save_checkpoint (or by mmcv).
  void resume(const std::string& checkpoint_path);

  RunStatus run(const data::DataLoader& loader);

  // Writes <out_dir>/<filename> ({meta, state_dict[, optimizer]}) atomically; with
  // `update_latest` repoints <out_dir>/latest.pth at it. `extra_meta` entries come first in
  // meta (mmdet's checkpoint_config.meta). Does nothing on ranks other than 0.
  void save_checkpoint(const std::string& out_dir, const std::string& filename, bool save_optimizer,
                       bool update_latest, const config::Dict& extra_meta = {});

  // Backward of `loss`, then (distributed) the gradients averaged over the ranks.
  void backward(const torch::Tensor& loss);
  // Waits for every rank (no-op in one process).
  void barrier();
  // Rank 0, or the only process: the one that logs and writes checkpoints.
  bool is_master() const { return !options_.group || options_.group->is_master(); }
  // The process group of a distributed run, else null.
  distributed::ProcessGroup* group() const { return options_.group.get(); }

  // --- state for hooks ---
  torch::nn::Module& model() { return *model_; }
  Optimizer& optimizer() { return *optimizer_; }
  RunLogger& logger() { return *logger_; }
  LogBuffer& log_buffer() { return log_buffer_; }
  config::Dict& meta() { return meta_; }
  const RunnerOptions& options() const { return options_; }
  const std::string& work_dir() const { return options_.work_dir; }
  bool by_epoch() const { return options_.by_epoch; }
  int64_t epoch() const { return epoch_; }
  int64_t iter() const { return iter_; }
  int64_t inner_iter() const { return inner_iter_; }
  int64_t max_epochs() const { return options_.max_epochs; }
  int64_t max_iters() const { return max_iters_; }
  int64_t epoch_len() const { return epoch_len_; }
  // The current step's outputs (valid between before_train_iter and after_train_iter).
  const StepOutputs& outputs() const { return outputs_; }
  TrainProgress progress() const;
  // lr of each param group.
  std::vector<double> current_lr() const;

 private:
  template <typename Fn>
  void call_hooks(Fn fn);
  void run_iter(const DetBatch& batch);
  // Whether Ctrl-C was pressed (on any rank: a collective, so every rank calls it equally often).
  bool interrupt_requested() const;
  // Writes interrupted.pth: epoch_ completed epochs plus `inner` batches of the next one.
  void save_interrupted(int64_t inner);
  std::string position_text() const;

  std::shared_ptr<torch::nn::Module> model_;
  ForwardTrain forward_train_;
  std::unique_ptr<Optimizer> optimizer_;
  std::shared_ptr<RunLogger> logger_;
  RunnerOptions options_;
  std::unique_ptr<distributed::DistributedDataParallel> data_parallel_;
  std::vector<std::unique_ptr<Hook>> hooks_;
  LogBuffer log_buffer_;
  config::Dict meta_;
  StepOutputs outputs_;
  int64_t epoch_ = 0;
  int64_t iter_ = 0;
  int64_t inner_iter_ = 0;
  int64_t max_iters_ = 0;
  int64_t epoch_len_ = 0;
  int64_t resume_inner_iter_ = 0;  // batches of epoch_ already trained (interrupted checkpoint)
};

// mmdet's find_latest_checkpoint: <work_dir>/latest.pth if present, else the epoch_N.pth /
// iter_N.pth with the largest N; nullopt when there is none.
std::optional<std::string> find_latest_checkpoint(const std::string& work_dir);

}  // namespace cppdet::engine
