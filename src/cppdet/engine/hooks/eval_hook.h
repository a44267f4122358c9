#pragma once
// mmdet's EvalHook (priority LOW): after every `interval` epochs (or iterations with
// by_epoch=false) calls the caller's evaluation, puts its metrics into the log buffer (the
// logger prints them as the `Epoch(val) [e][N]` line / mode "val" JSON line), and with
// save_best keeps best_<metric>_epoch_N.pth for the best value so far (rule greater/less,
// inferred from the metric name as mmcv does when not given; 'auto' = the first metric).
// Distributed (mmdet's DistEvalHook): rank 0's BatchNorm running statistics are broadcast
// first (broadcast_bn_buffer), every rank runs the evaluation function (which tests its
// share of the images and gathers the results on rank 0), and rank 0 logs the metrics and
// keeps the best checkpoint.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/engine/hook.h"

namespace cppdet::engine {

struct EvalResults {
  config::Dict metrics;  // ordered: bbox_mAP, bbox_mAP_50, ..., bbox_mAP_copypaste (a string)
  int64_t num_iters = 0; // length of the val loader (the N of "Epoch(val) [e][N]")
};

// Runs the model over the validation set and evaluates; `eval_kwargs` is config `evaluation`
// without the hook's own keys (metric, classwise, ...). The model is in eval() mode and
// autograd is off while it runs. Distributed, every rank calls it; only rank 0's metrics
// are used.
using EvalFn = std::function<EvalResults(const config::Dict& eval_kwargs)>;

struct EvalHookOptions {
  int64_t interval = 1;
  bool by_epoch = true;
  std::optional<int64_t> start;
  std::optional<std::string> save_best;  // metric name or "auto"
  std::optional<std::string> rule;       // "greater" | "less"
  bool broadcast_bn_buffer = true;       // distributed: rank 0's BN running stats first
  config::Dict eval_kwargs;
};

// Reads config `evaluation` (interval, by_epoch, start, save_best, rule, broadcast_bn_buffer;
// other keys go to eval_kwargs; gpu_collect/tmpdir/dynamic_intervals are accepted and ignored:
// results are always gathered through the process group).
EvalHookOptions eval_hook_from_config(const config::Value& cfg, const std::string& path = "evaluation");

class EvalHook : public Hook {
 public:
  EvalHook(EvalHookOptions options, EvalFn evaluate);
  std::string name() const override { return "EvalHook"; }
  Priority priority() const override { return Priority::Low; }
  void before_run(Runner& runner) override;
  void after_train_epoch(Runner& runner) override;
  void after_train_iter(Runner& runner) override;

 private:
  void evaluate(Runner& runner, int64_t done);
  void save_best(Runner& runner, double score, int64_t done);

  EvalHookOptions options_;
  EvalFn evaluate_;
  std::string key_indicator_;
  std::string rule_;
  std::string best_ckpt_path_;
};

// mmcv's rule inference for a metric name: "greater" (acc, top, AR@, auc, precision, mAP,
// mDice, mIoU, mAcc, aAcc), "less" (loss); throws ConfigError when neither applies.
std::string infer_eval_rule(const std::string& key);

}  // namespace cppdet::engine
