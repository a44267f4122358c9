#pragma once
// mmcv's CheckpointHook (priority NORMAL): every `interval` epochs (or iterations with
// by_epoch=false) and after the last one (save_last) writes epoch_N.pth / iter_N.pth into
// out_dir (default: the work dir), repoints latest.pth, records hook_msgs.last_ckpt, and keeps
// only the newest `max_keep_ckpts` periodic checkpoints when that is positive. Distributed:
// rank 0 writes, and every rank waits at a barrier until it has.
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/engine/hook.h"

namespace cppdet::engine {

struct CheckpointHookOptions {
  int64_t interval = 1;
  bool by_epoch = true;
  bool save_optimizer = true;
  std::string out_dir;  // "" = the work dir
  int64_t max_keep_ckpts = -1;
  bool save_last = true;
  config::Dict meta;  // entries written first in each checkpoint's meta (version, CLASSES)
};

// Reads config `checkpoint_config` (interval, by_epoch, save_optimizer, out_dir,
// max_keep_ckpts, save_last; meta is filled by the caller).
CheckpointHookOptions checkpoint_hook_from_config(const config::Value& cfg, const std::string& path = "checkpoint_config");

class CheckpointHook : public Hook {
 public:
  explicit CheckpointHook(CheckpointHookOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "CheckpointHook"; }
  Priority priority() const override { return Priority::Normal; }
  void after_train_epoch(Runner& runner) override;
  void after_train_iter(Runner& runner) override;

 private:
  void save(Runner& runner, int64_t number);

  CheckpointHookOptions options_;
};

}  // namespace cppdet::engine
