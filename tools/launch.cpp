#include "launch.h"

#include <cstdlib>

#include "cppdet/apis/device.h"
#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::tools {
namespace {

struct DistParams {
  std::string backend = "nccl";
  std::optional<int> port;
  double timeout_s = 1800.0;
};

DistParams dist_params(const config::Value& cfg) {
  DistParams p;
  const config::Value* node = cfg.is_dict() ? cfg.as_dict().find("dist_params") : nullptr;
  if (!node || node->is_none()) return p;
  config::ConfigReader r(*node, "dist_params");
  p.backend = r.get_string("backend", p.backend);
  if (const config::Value* port = r.get_optional("port"); port && !port->is_none()) p.port = static_cast<int>(port->as_int());
  p.timeout_s = r.get_number("timeout", p.timeout_s);
  r.finish();
  if (p.backend != "gloo" && p.backend != "nccl")
    throw ConfigError("dist_params.backend: '" + p.backend + "' is not supported (gloo, nccl)");
  if (!(p.timeout_s > 0)) throw ConfigError("dist_params.timeout: must be a positive number of seconds");
  return p;
}

}  // namespace

void add_launch_options(CLI::App& cmd, LaunchOptions& options) {
  cmd.add_option("--launcher", options.launcher,
                 "none (one process), pytorch (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from torchrun or "
                 "scripts/dist_*.sh) or slurm (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST)")
      ->check(CLI::IsMember({"none", "pytorch", "slurm"}));
  cmd.add_option("--local_rank,--local-rank", options.local_rank, "set by torch.distributed.launch (sets LOCAL_RANK)");
}

Launched launch(const LaunchOptions& options, const config::Value& cfg, const std::string& device) {
  Launched out;
  out.device = device;
  const distributed::Launcher launcher = distributed::parse_launcher(options.launcher);
  if (launcher == distributed::Launcher::None) return out;
  if (options.local_rank && !std::getenv("LOCAL_RANK"))
    ::setenv("LOCAL_RANK", std::to_string(*options.local_rank).c_str(), 1);
  const DistParams params = dist_params(cfg);
  const distributed::LaunchEnv env = distributed::launch_env(launcher, params.port);
  distributed::GroupOptions go;
  go.timeout = std::chrono::milliseconds(static_cast<int64_t>(params.timeout_s * 1000.0));
  if (device.rfind("cuda", 0) == 0) {
    // mmcv: torch.cuda.set_device(rank % num_gpus): one GPU per local rank.
    out.device = apis::check_device("cuda:" + std::to_string(env.local_rank));
    go.backend = params.backend;
  } else {
    go.backend = "gloo";
  }
  go.device = out.device;
  out.group = distributed::ProcessGroup::connect(env, go);
  distributed::set_default_group(out.group);
  return out;
}

}  // namespace cppdet::tools
