#pragma once
// How a distributed run learns its place (mmcv's init_dist): the environment contract of
// torchrun / torch.distributed.launch (`--launcher pytorch`) and of Slurm's srun
// (`--launcher slurm`).
//
//   pytorch: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (required); LOCAL_RANK (default 0).
//   slurm:   SLURM_PROCID (rank), SLURM_NTASKS (world size), SLURM_LOCALID (local rank, default
//            0), SLURM_NODELIST (its first host is the master unless MASTER_ADDR is set);
//            the port is dist_params.port, else MASTER_PORT, else 29500.
// Under torchrun the agent already hosts the rendezvous store on MASTER_PORT
// (TORCHELASTIC_USE_AGENT_STORE=True): every rank, rank 0 included, connects to it.
#include <functional>
#include <optional>
#include <string>

namespace cppdet::distributed {

enum class Launcher { None, PyTorch, Slurm };

// "none" | "pytorch" | "slurm"; throws UserError naming the accepted values ("mpi" included,
// which cppdet does not support).
Launcher parse_launcher(const std::string& name);

struct LaunchEnv {
  int rank = 0;
  int local_rank = 0;
  int world_size = 1;
  std::string master_addr;
  int master_port = 29500;
  bool agent_store = false;  // torchrun's agent hosts the store: rank 0 connects as a client
};

// Looks up an environment variable (std::getenv by default; tests pass a map).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// Reads the launcher's variables. `port` is dist_params.port (used by the Slurm launcher, as
// mmcv does). Throws UserError naming the missing or malformed variable, and for
// RANK >= WORLD_SIZE.
LaunchEnv launch_env(Launcher launcher, std::optional<int> port = std::nullopt,
                     const EnvLookup& env = process_env);

// The first host of a Slurm node list, as `scontrol show hostnames LIST | head -n1` prints it:
// "node[03-05,9],gpu1" -> "node03", "a,b" -> "a", "rack1-[2-4]" -> "rack1-2".
// Throws UserError for an empty or malformed list.
std::string slurm_first_host(const std::string& nodelist);

}  // namespace cppdet::distributed
