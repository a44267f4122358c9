#pragma once
// What `cppdet train`, `test` and `train-step` share to run as one of several processes:
// `--launcher none|pytorch|slurm` (mmdet's tools), the launcher's environment
// (distributed/launcher.h) and the config's dist_params:
//   dist_params = dict(backend='nccl'|'gloo', port=29500, timeout=1800)
// backend: the CPU always uses gloo; CUDA uses the configured one (mmdet's default nccl).
// port: the Slurm launcher's MASTER_PORT (as mmcv). timeout: seconds for the rendezvous and
// every collective before a rank is declared lost (cppdet's; torch's default 30 minutes).
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/distributed/process_group.h"

namespace cppdet::tools {

struct LaunchOptions {
  std::string launcher = "none";
  std::optional<int> local_rank;  // torch.distributed.launch's --local_rank
};

// Adds --launcher and --local_rank (also spelled --local-rank).
void add_launch_options(CLI::App& cmd, LaunchOptions& options);

struct Launched {
  std::shared_ptr<distributed::ProcessGroup> group;  // null with --launcher none
  std::string device;  // `device`, with "cuda" pinned to cuda:<LOCAL_RANK> in a distributed run
};

// Joins the group the launcher describes and makes it the default group. Throws UserError /
// DistributedError with the variable, port or rank at fault.
Launched launch(const LaunchOptions& options, const config::Value& cfg, const std::string& device);

}  // namespace cppdet::tools
