#pragma once
// A group of processes that train or test together (torch.distributed's default process
// group), on LibTorch's c10d: a TCPStore for the rendezvous and ProcessGroupGloo (CPU) or
// ProcessGroupNCCL (CUDA builds) for the collectives.
//
//   auto group = distributed::ProcessGroup::connect(distributed::launch_env(Launcher::PyTorch), {});
//   distributed::set_default_group(group);   // SyncBN and the engine find it here
//   torch::Tensor t = ...; group->all_reduce(t);
//
// Rendezvous (connect): rank 0 hosts the store on MASTER_ADDR:MASTER_PORT (torchrun's agent
// hosts it instead when TORCHELASTIC_USE_AGENT_STORE=True), every rank connects; the ranks
// check that they were started with the same WORLD_SIZE and distinct RANKs before the c10d
// group connects its full mesh. Everything is bounded by `timeout` (dist_params.timeout).
//
// Failures: every collective that fails (a peer's connection closed, a timeout) throws
// DistributedError naming the lost rank(s). Each process keeps a heartbeat counter in the
// store (one increment per second from a background thread); a failing rank marks itself
// in the store and compares the counters over a few seconds: ranks whose heartbeat stopped
// and who did not report a failure themselves are the lost ones; a store that cannot be
// reached means rank 0 (its host) is lost.
#include <torch/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cppdet/core/error.h"
#include "cppdet/distributed/launcher.h"

namespace cppdet::distributed {

// A distributed set-up or collective that failed; the message says which rank, address or
// variable is at fault.
class DistributedError : public UserError {
 public:
  using UserError::UserError;
};

struct GroupOptions {
  std::string backend = "gloo";  // "gloo" | "nccl" (CUDA builds)
  // Rendezvous and every collective (torch's default: 30 minutes).
  std::chrono::milliseconds timeout = std::chrono::minutes(30);
  std::string device = "cpu";    // where the group's own tensors live ("cuda:N" with nccl)
};

enum class ReduceOp { Sum, Max };

class ProcessGroup {
 public:
  // Throws DistributedError: port in use, master unreachable, mismatched WORLD_SIZE, a RANK
  // claimed twice, a rank that does not join in time, an unknown backend.
  static std::shared_ptr<ProcessGroup> connect(const LaunchEnv& env, const GroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  bool is_master() const { return rank() == 0; }
  const std::string& backend() const;
  torch::Device device() const;
  std::chrono::milliseconds timeout() const;

  // Blocking collectives over tensors on device(); every rank calls them in the same order.
  void all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum);
  // Rank `root`'s values into `tensors` on every rank (coalesced into few messages).
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  // Every rank's `tensor` (same shape and dtype on all ranks), in rank order.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor);
  // Every rank's bytes (any length), in rank order.
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  // Rank `root`'s string on every rank.
  std::string broadcast_string(const std::string& value, int root = 0);
  void barrier();

  // A started asynchronous all-reduce (sum): the gradient buckets overlap with backward.
  class Pending {
   public:
    Pending();
    ~Pending();
    Pending(Pending&&) noexcept;
    Pending& operator=(Pending&&) noexcept;
    // Blocks until done; throws DistributedError as the blocking collectives do.
    void wait();
    bool valid() const { return impl_ != nullptr; }

   private:
    friend class ProcessGroup;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };
  Pending all_reduce_async(torch::Tensor tensor);

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  // Turns a c10d failure into a DistributedError naming the lost ranks; never returns.
  [[noreturn]] void fail(const std::string& what, const std::exception& error);
  std::unique_ptr<Impl> impl_;
};

// The process-wide group (torch.distributed's WORLD): set once the launcher's processes have
// connected; null in a single-process run.
void set_default_group(std::shared_ptr<ProcessGroup> group);
ProcessGroup* default_group();
std::shared_ptr<ProcessGroup> default_group_ptr();

// 0 / 1 without a default group.
int rank();
int world_size();

}  // namespace cppdet::distributed
