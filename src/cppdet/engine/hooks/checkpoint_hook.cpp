#include "cppdet/engine/hooks/checkpoint_hook.h"

#include <filesystem>

#include "cppdet/config/reader.h"
#include "cppdet/engine/runner.h"

namespace fs = std::filesystem;

namespace cppdet::engine {

CheckpointHookOptions checkpoint_hook_from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  CheckpointHookOptions o;
  o.interval = r.get_int("interval", 1);
  o.by_epoch = r.get_bool("by_epoch", true);
  o.save_optimizer = r.get_bool("save_optimizer", true);
  o.out_dir = r.get_string("out_dir", "");
  o.max_keep_ckpts = r.get_int("max_keep_ckpts", -1);
  o.save_last = r.get_bool("save_last", true);
  r.ignore({"meta", "sync_buffer", "file_client_args", "create_symlink"});
  r.finish();
  if (o.interval <= 0) o.interval = -1;  // mmcv: interval -1 saves only the last
  return o;
}

void CheckpointHook::after_train_epoch(Runner& runner) {
  if (!options_.by_epoch) return;
  const int64_t done = runner.epoch() + 1;
  const bool periodic = options_.interval > 0 && done % options_.interval == 0;
  const bool last = options_.save_last && done == runner.max_epochs();
  if (!periodic && !last) return;
  runner.logger().info("Saving checkpoint at " + std::to_string(done) + " epochs");
  save(runner, done);
}

void CheckpointHook::after_train_iter(Runner& runner) {
  if (options_.by_epoch) return;
  const int64_t done = runner.iter() + 1;
  const bool periodic = options_.interval > 0 && done % options_.interval == 0;
  const bool last = options_.save_last && done == runner.max_iters();
  if (!periodic && !last) return;
  runner.logger().info("Saving checkpoint at " + std::to_string(done) + " iterations");
  save(runner, done);
}

void CheckpointHook::save(Runner& runner, int64_t number) {
  const std::string out_dir = options_.out_dir.empty() ? runner.work_dir() : options_.out_dir;
  const std::string prefix = options_.by_epoch ? "epoch_" : "iter_";
  const std::string filename = prefix + std::to_string(number) + ".pth";
  runner.save_checkpoint(out_dir, filename, options_.save_optimizer, /*update_latest=*/true, options_.meta);
  runner.meta().at("hook_msgs").as_dict().set("last_ckpt", (fs::path(out_dir) / filename).string());
  // Distributed: no rank goes on before rank 0 has written the checkpoint.
  runner.barrier();
  if (options_.max_keep_ckpts > 0 && options_.interval > 0 && runner.is_master()) {
    for (int64_t n = number - options_.max_keep_ckpts * options_.interval; n > 0; n -= options_.interval) {
      const fs::path old = fs::path(out_dir) / (prefix + std::to_string(n) + ".pth");
      std::error_code ec;
      if (!fs::exists(old, ec)) break;
      fs::remove(old, ec);
    }
  }
}

}  // namespace cppdet::engine
