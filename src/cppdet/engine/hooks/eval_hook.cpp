#include "cppdet/engine/hooks/eval_hook.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/distributed/process_group.h"
#include "cppdet/engine/hooks/text_logger_hook.h"
#include "cppdet/engine/runner.h"

namespace fs = std::filesystem;

namespace cppdet::engine {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// mmdet's DistEvalHook: every BatchNorm's running mean and variance from rank 0.
void broadcast_bn_buffers(torch::nn::Module& model, distributed::ProcessGroup& group) {
  std::vector<torch::Tensor> buffers;
  for (const auto& m : model.named_modules()) {
    const auto* bn = dynamic_cast<const torch::nn::BatchNorm2dImpl*>(m.value().get());
    if (!bn || !bn->options.track_running_stats()) continue;
    buffers.push_back(bn->running_var);
    buffers.push_back(bn->running_mean);
  }
  torch::NoGradGuard no_grad;
  group.broadcast(buffers, 0);
}

}  // namespace

std::string infer_eval_rule(const std::string& key) {
  static const std::vector<std::string> greater = {"acc", "top", "ar@", "auc", "precision", "map", "mdice", "miou", "macc", "aacc"};
  static const std::vector<std::string> less = {"loss"};
  const std::string k = lower(key);
  if (std::find(greater.begin(), greater.end(), k) != greater.end()) return "greater";
  if (std::find(less.begin(), less.end(), k) != less.end()) return "less";
  for (const std::string& g : greater)
    if (k.find(g) != std::string::npos) return "greater";
  for (const std::string& l : less)
    if (k.find(l) != std::string::npos) return "less";
  throw ConfigError("evaluation.save_best: cannot infer the rule for '" + key + "'; set evaluation.rule");
}

EvalHookOptions eval_hook_from_config(const config::Value& cfg, const std::string& path) {
  EvalHookOptions o;
  const config::Dict& d = cfg.as_dict();
  for (size_t i = 0; i < d.size(); ++i) {
    const std::string& key = d.keys()[i];
    const config::Value& v = d.values()[i];
    const std::string where = path + "." + key;
    if (key == "interval") {
      o.interval = v.as_int();
      if (o.interval <= 0) throw ConfigError(where + ": must be positive");
    } else if (key == "by_epoch") {
      o.by_epoch = v.as_bool();
    } else if (key == "start") {
      if (!v.is_none()) o.start = v.as_int();
    } else if (key == "save_best") {
      if (!v.is_none()) o.save_best = v.as_string();
    } else if (key == "rule") {
      if (!v.is_none()) {
        o.rule = v.as_string();
        if (*o.rule != "greater" && *o.rule != "less") throw ConfigError(where + ": must be 'greater' or 'less'");
      }
    } else if (key == "broadcast_bn_buffer") {
      o.broadcast_bn_buffer = v.as_bool();
    } else if (key == "gpu_collect" || key == "tmpdir" || key == "dynamic_intervals" || key == "type") {
      continue;
    } else {
      o.eval_kwargs.set(key, v);
    }
  }
  if (o.save_best && *o.save_best != "auto" && !o.rule) o.rule = infer_eval_rule(*o.save_best);
  return o;
}

EvalHook::EvalHook(EvalHookOptions options, EvalFn evaluate) : options_(std::move(options)), evaluate_(std::move(evaluate)) {
  if (!evaluate_) throw std::invalid_argument("EvalHook: an evaluation function is required");
  if (options_.save_best) key_indicator_ = *options_.save_best;
  if (options_.rule) rule_ = *options_.rule;
}

void EvalHook::before_run(Runner& runner) {
  if (!options_.save_best) return;
  const config::Dict& msgs = runner.meta().at("hook_msgs").as_dict();
  if (const config::Value* best = msgs.find("best_ckpt")) best_ckpt_path_ = best->as_string();
}

void EvalHook::after_train_epoch(Runner& runner) {
  if (!options_.by_epoch) return;
  const int64_t done = runner.epoch() + 1;
  if (options_.start) {
    if (done < *options_.start || (done - *options_.start) % options_.interval != 0) return;
  } else if (done % options_.interval != 0) {
    return;
  }
  evaluate(runner, done);
}

void EvalHook::after_train_iter(Runner& runner) {
  if (options_.by_epoch) return;
  const int64_t done = runner.iter() + 1;
  if (options_.start) {
    if (done < *options_.start || (done - *options_.start) % options_.interval != 0) return;
  } else if (done % options_.interval != 0) {
    return;
  }
  // As mmcv: the loggers run first so that this iteration's training line is printed before
  // (and not mixed with) the evaluation results, then the buffer starts afresh.
  for (const auto& hook : runner.hooks())
    if (auto* logger = dynamic_cast<TextLoggerHook*>(hook.get())) logger->after_train_iter(runner);
  runner.log_buffer().clear();
  evaluate(runner, done);
}

void EvalHook::evaluate(Runner& runner, int64_t done) {
  EvalResults results;
  if (runner.group() && options_.broadcast_bn_buffer) broadcast_bn_buffers(runner.model(), *runner.group());
  runner.model().eval();
  {
    torch::NoGradGuard no_grad;
    results = evaluate_(options_.eval_kwargs);
  }
  runner.model().train();
  if (!runner.is_master()) return;
  LogBuffer& buffer = runner.log_buffer();
  buffer.output().set("eval_iter_num", results.num_iters);
  for (size_t i = 0; i < results.metrics.size(); ++i) buffer.output().set(results.metrics.keys()[i], results.metrics.values()[i]);
  buffer.set_ready();
  if (!options_.save_best) return;
  if (results.metrics.empty()) {
    runner.logger().warning("Since the evaluation returned no metrics, no best checkpoint is saved");
    return;
  }
  if (key_indicator_ == "auto") {
    key_indicator_ = results.metrics.keys().front();
    if (rule_.empty()) rule_ = infer_eval_rule(key_indicator_);
  }
  const config::Value* score = results.metrics.find(key_indicator_);
  if (!score || !score->is_number())
    throw ConfigError("evaluation.save_best: the evaluation has no numeric metric '" + key_indicator_ + "'");
  save_best(runner, score->as_number(), done);
}

void EvalHook::save_best(Runner& runner, double score, int64_t done) {
  config::Dict& msgs = runner.meta().at("hook_msgs").as_dict();
  const bool greater = rule_ == "greater";
  double best = greater ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  if (const config::Value* b = msgs.find("best_score")) best = b->as_number();
  if (!(greater ? score > best : score < best)) return;
  msgs.set("best_score", score);
  std::error_code ec;
  if (!best_ckpt_path_.empty() && fs::is_regular_file(best_ckpt_path_, ec)) {
    fs::remove(best_ckpt_path_, ec);
    runner.logger().info("The previous best checkpoint " + best_ckpt_path_ + " was removed");
  }
  const std::string unit = options_.by_epoch ? "epoch" : "iter";
  const std::string filename = "best_" + key_indicator_ + "_" + unit + "_" + std::to_string(done) + ".pth";
  best_ckpt_path_ = (fs::path(runner.work_dir()) / filename).string();
  msgs.set("best_ckpt", best_ckpt_path_);
  runner.save_checkpoint(runner.work_dir(), filename, /*save_optimizer=*/true, /*update_latest=*/false);
  runner.logger().info("Now best checkpoint is saved as " + filename + ".");
  char line[256];
  std::snprintf(line, sizeof line, "Best %s is %0.4f at %lld %s.", key_indicator_.c_str(), score,
                static_cast<long long>(done), unit.c_str());
  runner.logger().info(line);
}

}  // namespace cppdet::engine
