#include "cppdet/distributed/data_parallel.h"

#include <torch/torch.h>

#include <functional>

namespace cppdet::distributed {
namespace {

// "name[shape]" of every parameter and buffer, one per line: what must agree across ranks.
std::string model_signature(torch::nn::Module& module) {
  std::string out;
  const auto add = [&](const std::string& kind, const std::string& name, const torch::Tensor& t) {
    out += kind + " " + name + " " + c10::toString(t.scalar_type()) + " [";
    for (int64_t d = 0; d < t.dim(); ++d) out += (d ? "," : "") + std::to_string(t.size(d));
    out += "]\n";
  };
  for (const auto& p : module.named_parameters()) add("param", p.key(), p.value());
  for (const auto& b : module.named_buffers()) add("buffer", b.key(), b.value());
  return out;
}

std::string first_difference(const std::string& ours, const std::string& theirs) {
  size_t a = 0, b = 0;
  while (a < ours.size() || b < theirs.size()) {
    const size_t ea = ours.find('\n', a), eb = theirs.find('\n', b);
    const std::string la = a < ours.size() ? ours.substr(a, ea - a) : "(nothing)";
    const std::string lb = b < theirs.size() ? theirs.substr(b, eb - b) : "(nothing)";
    if (la != lb) return "here " + la + ", on rank 0 " + lb;
    a = ea == std::string::npos ? ours.size() : ea + 1;
    b = eb == std::string::npos ? theirs.size() : eb + 1;
  }
  return "";
}

}  // namespace

DistributedDataParallel::DistributedDataParallel(torch::nn::Module& module, ProcessGroup& group, DataParallelOptions options)
    : group_(group), options_(options) {
  const std::string ours = model_signature(module);
  const std::string master = group_.broadcast_string(ours, 0);
  const bool same = ours == master;
  torch::Tensor disagree = torch::tensor({same ? 0 : 1}, torch::TensorOptions().dtype(torch::kInt).device(group_.device()));
  group_.all_reduce(disagree, ReduceOp::Max);
  if (!same)
    throw DistributedError("rank " + std::to_string(group_.rank()) + " built a different model than rank 0: " +
                           first_difference(ours, master));
  if (disagree.item<int>() != 0)
    throw DistributedError("another rank built a different model than rank 0 (same config on every rank?)");

  {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> states;
    for (const auto& p : module.named_parameters()) states.push_back(p.value());
    for (const auto& b : module.named_buffers()) states.push_back(b.value());
    group_.broadcast(states, 0);
  }

  for (const auto& p : module.named_parameters()) {
    if (!p.value().requires_grad()) continue;
    names_.push_back(p.key());
    params_.push_back(p.value());
  }
  bucket_of_.resize(params_.size());
  slot_of_.resize(params_.size());
  ready_.assign(params_.size(), 0);
  // Reverse registration order: the gradients of the last layers come first in backward.
  int64_t cap = options_.first_bucket_bytes;
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const torch::Tensor& p = params_[k];
    const int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
    const bool compatible = !buckets_.empty() && buckets_.back().flat.scalar_type() == p.scalar_type() &&
                            buckets_.back().flat.device() == p.device();
    if (buckets_.empty() || !compatible || (bytes > 0 && bytes + size > cap)) {
      if (!buckets_.empty()) cap = options_.bucket_cap_bytes;
      buckets_.emplace_back();
      buckets_.back().flat = torch::empty({0}, p.options().requires_grad(false));
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    const int64_t offset = b.slots.empty() ? 0 : b.slots.back().offset + b.slots.back().numel;
    b.slots.push_back({k, offset, p.numel()});
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = b.slots.size() - 1;
    bytes += size;
  }
  for (Bucket& b : buckets_) {
    const int64_t total = b.slots.back().offset + b.slots.back().numel;
    b.flat = torch::zeros({total}, b.flat.options());
  }
  reset_iteration();
  for (size_t k = 0; k < params_.size(); ++k)
    hook_ids_.push_back(params_[k].register_hook([this, k](const torch::Tensor& grad) { on_gradient(k, grad); }));
}

DistributedDataParallel::~DistributedDataParallel() {
  for (size_t k = 0; k < hook_ids_.size(); ++k) params_[k].remove_hook(hook_ids_[k]);
}

void DistributedDataParallel::reset_iteration() {
  std::fill(ready_.begin(), ready_.end(), 0);
  for (Bucket& b : buckets_) {
    b.pending = b.slots.size();
    b.launched = false;
  }
  next_launch_ = 0;
}

void DistributedDataParallel::on_gradient(size_t param, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = buckets_[bucket_of_[param]];
  const Slot& slot = b.slots[slot_of_[param]];
  torch::NoGradGuard no_grad;
  torch::Tensor view = b.flat.narrow(0, slot.offset, slot.numel).view(params_[param].sizes());
  // As torch's DDP: divide while copying into the bucket, then sum over the ranks.
  torch::mul_out(view, grad, torch::scalar_tensor(1.0 / group_.world_size(), grad.options()));
  if (!ready_[param]) {
    ready_[param] = 1;
    --b.pending;
  }
  launch_ready_buckets();
}

void DistributedDataParallel::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_++];
    b.reduce = group_.all_reduce_async(b.flat);
    b.launched = true;
  }
}

void DistributedDataParallel::finish_backward() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::vector<std::string> unused;
  for (size_t k = 0; k < params_.size(); ++k)
    if (!ready_[k]) unused.push_back(names_[k]);
  if (!unused.empty() && !options_.find_unused_parameters) {
    std::string list;
    for (size_t i = 0; i < unused.size() && i < 10; ++i) list += (i ? ", " : "") + unused[i];
    if (unused.size() > 10) list += ", ... (" + std::to_string(unused.size()) + " in all)";
    reset_iteration();
    throw DistributedError("rank " + std::to_string(group_.rank()) +
                           ": these parameters received no gradient in this iteration: " + list +
                           "; set find_unused_parameters = True in the config when a model leaves parameters unused");
  }
  torch::NoGradGuard no_grad;
  // Unused here: zero in the sum. The used map tells which parameters some rank used.
  const std::vector<uint8_t> used_here = ready_;
  torch::Tensor used;
  if (options_.find_unused_parameters) {
    for (size_t k = 0; k < params_.size(); ++k) {
      if (ready_[k]) continue;
      Bucket& b = buckets_[bucket_of_[k]];
      const Slot& slot = b.slots[slot_of_[k]];
      b.flat.narrow(0, slot.offset, slot.numel).zero_();
      ready_[k] = 1;
      --b.pending;
    }
    launch_ready_buckets();
  }
  lock.unlock();
  for (Bucket& b : buckets_) b.reduce.wait();
  if (options_.find_unused_parameters) {
    std::vector<int32_t> flags(used_here.begin(), used_here.end());
    used = torch::tensor(flags, torch::kInt).to(group_.device());
    group_.all_reduce(used, ReduceOp::Max);
    used = used.cpu();
  }
  lock.lock();
  for (size_t k = 0; k < params_.size(); ++k) {
    if (used.defined() && used.data_ptr<int32_t>()[k] == 0) continue;
    const Bucket& b = buckets_[bucket_of_[k]];
    const Slot& slot = b.slots[slot_of_[k]];
    const torch::Tensor averaged = b.flat.narrow(0, slot.offset, slot.numel).view(params_[k].sizes());
    torch::Tensor& grad = params_[k].mutable_grad();
    if (grad.defined())
      grad.copy_(averaged);
    else
      grad = averaged.clone();
  }
  reset_iteration();
}

}  // namespace cppdet::distributed
