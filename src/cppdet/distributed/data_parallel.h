#pragma once
// Data-parallel gradient averaging (torch's DistributedDataParallel as mmcv's
// MMDistributedDataParallel configures it: broadcast_buffers=False).
//
// Construction checks that every rank holds the same parameters (names and shapes) and
// broadcasts rank 0's parameters and buffers. The parameters that require a gradient are
// split into buckets in reverse registration order (the order backward produces their
// gradients): about 1 MiB for the first bucket, 25 MiB for the others. A hook on each
// parameter copies its gradient, divided by the world size, into its bucket as soon as
// backward computes it; a full bucket is all-reduced (summed) asynchronously while backward
// goes on, buckets always in the same order on every rank. finish_backward() waits for the
// buckets and writes the averaged gradients into .grad.
//
// A parameter without a gradient in an iteration (unused by this batch's forward) is an
// error naming it, unless find_unused_parameters: then it counts as zero in the average,
// and a parameter no rank used keeps its .grad untouched (as torch's DDP does).
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cppdet/distributed/process_group.h"

namespace cppdet::distributed {

struct DataParallelOptions {
  bool find_unused_parameters = false;
  int64_t bucket_cap_bytes = int64_t{25} << 20;   // torch's bucket_cap_mb=25
  int64_t first_bucket_bytes = int64_t{1} << 20;  // torch's _DEFAULT_FIRST_BUCKET_BYTES
};

class DistributedDataParallel {
 public:
  // Throws DistributedError when the ranks' parameters differ.
  DistributedDataParallel(torch::nn::Module& module, ProcessGroup& group, DataParallelOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  // After backward(): every rank's .grad holds the mean of the ranks' gradients.
  void finish_backward();

  size_t num_buckets() const { return buckets_.size(); }
  const DataParallelOptions& options() const { return options_; }

 private:
  struct Slot {
    size_t param = 0;  // index into params_
    int64_t offset = 0;
    int64_t numel = 0;
  };
  struct Bucket {
    torch::Tensor flat;  // [sum of numel] the gradients of its parameters, each divided by world size
    std::vector<Slot> slots;
    size_t pending = 0;  // slots without this iteration's gradient
    ProcessGroup::Pending reduce;
    bool launched = false;
  };

  void on_gradient(size_t param, const torch::Tensor& grad);
  void launch_ready_buckets();  // in bucket order; mutex_ held
  void reset_iteration();

  ProcessGroup& group_;
  DataParallelOptions options_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_;
  std::vector<unsigned> hook_ids_;
  std::vector<size_t> bucket_of_;  // param index -> bucket
  std::vector<size_t> slot_of_;    // param index -> slot in its bucket
  std::vector<uint8_t> ready_;     // this iteration's gradient arrived
  std::vector<Bucket> buckets_;
  size_t next_launch_ = 0;
  std::mutex mutex_;
};

}  // namespace cppdet::distributed
