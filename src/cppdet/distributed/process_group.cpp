#include "cppdet/distributed/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

namespace cppdet::distributed {
namespace {

using Ms = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
constexpr Ms kHeartbeatPeriod{1000};
// A failing rank watches the heartbeats this long: a live rank beats at least twice in it.
constexpr Ms kDiagnoseWindow{3000};
constexpr Ms kProbeTimeout{3000};
constexpr Ms kJoinPoll{50};

std::vector<uint8_t> to_bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string from_bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

std::string first_line(const std::string& text) {
  const size_t end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

std::string seconds_text(Ms ms) {
  std::ostringstream s;
  s << static_cast<double>(ms.count()) / 1000.0 << " s";
  return s.str();
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

std::string endpoint(const LaunchEnv& env) { return env.master_addr + ":" + std::to_string(env.master_port); }

std::string rank_list(const std::vector<int>& ranks) {
  std::string out;
  for (int r : ranks) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

c10::intrusive_ptr<c10d::TCPStore> store_client(const LaunchEnv& env, Ms timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(env.master_port);
  o.isServer = false;
  o.waitWorkers = false;
  o.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
}

std::shared_ptr<ProcessGroup> g_default_group;

}  // namespace

// Increments <prefix>hb/<rank> in the store once per period, over its own connection, until
// stopped or the store goes away.
class ProcessGroupHeartbeat {
 public:
  ProcessGroupHeartbeat(LaunchEnv env, std::string key) : env_(std::move(env)), key_(std::move(key)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~ProcessGroupHeartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void loop() {
    try {
      c10::intrusive_ptr<c10d::TCPStore> client = store_client(env_, kProbeTimeout);
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stop_) {
        lock.unlock();
        client->add(key_, 1);
        lock.lock();
        cv_.wait_for(lock, kHeartbeatPeriod, [this] { return stop_; });
      }
    } catch (const std::exception&) {
      // The store is gone (rank 0 ended): nothing left to report to.
    }
  }

  LaunchEnv env_;
  std::string key_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

struct ProcessGroup::Impl {
  LaunchEnv env;
  GroupOptions options;
  std::string prefix;  // of every key cppdet puts in the store
  torch::Device device{torch::kCPU};
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::unique_ptr<ProcessGroupHeartbeat> heartbeat;

  std::string key(const std::string& name) const { return prefix + name; }
  void rendezvous();
  void create_group();
  std::string diagnose() const;
};

struct ProcessGroup::Pending::Impl {
  c10::intrusive_ptr<c10d::Work> work;
  ProcessGroup* group = nullptr;
};

ProcessGroup::Pending::Pending() = default;
ProcessGroup::Pending::~Pending() = default;
ProcessGroup::Pending::Pending(Pending&&) noexcept = default;
ProcessGroup::Pending& ProcessGroup::Pending::operator=(Pending&&) noexcept = default;

void ProcessGroup::Pending::wait() {
  if (!impl_) return;
  std::unique_ptr<Impl> impl = std::move(impl_);
  try {
    impl->work->wait();
  } catch (const std::exception& e) {
    impl->group->fail("the gradient all_reduce", e);
  }
}

// Checks that every process was started with the same WORLD_SIZE and its own RANK, and waits
// (bounded) until all of them have connected.
void ProcessGroup::Impl::rendezvous() {
  const int rank = env.rank, world = env.world_size;
  if (rank == 0) store->set(key("world_size"), to_bytes(std::to_string(world)));
  if (store->add(key("rank/" + std::to_string(rank)), 1) > 1)
    throw DistributedError("RANK " + std::to_string(rank) + " was given to two processes; every process needs its own RANK");
  if (rank != 0) {
    store->wait({key("world_size")}, options.timeout);
    const int master_world = std::atoi(from_bytes(store->get(key("world_size"))).c_str());
    if (master_world != world) {
      store->set(key("refused/" + std::to_string(rank)), to_bytes(std::to_string(world)));
      throw DistributedError("mismatched world sizes: this process (RANK " + std::to_string(rank) + ") has WORLD_SIZE=" +
                             std::to_string(world) + " but rank 0 has WORLD_SIZE=" + std::to_string(master_world) +
                             "; start every process with the same WORLD_SIZE");
    }
  }
  store->set(key("joined/" + std::to_string(rank)), to_bytes("1"));
  const auto deadline = Clock::now() + options.timeout;
  for (;;) {
    std::vector<int> missing;
    for (int r = 0; r < world; ++r) {
      if (store->check({key("joined/" + std::to_string(r))})) continue;
      if (store->check({key("refused/" + std::to_string(r))})) {
        const std::string theirs = from_bytes(store->get(key("refused/" + std::to_string(r))));
        throw DistributedError("mismatched world sizes: rank " + std::to_string(r) + " was started with WORLD_SIZE=" +
                               theirs + " but this process (RANK " + std::to_string(rank) + ") has WORLD_SIZE=" +
                               std::to_string(world) + "; start every process with the same WORLD_SIZE");
      }
      missing.push_back(r);
    }
    if (missing.empty()) return;
    if (Clock::now() > deadline)
      throw DistributedError("rank(s) " + rank_list(missing) + " did not join the group at " + endpoint(env) +
                             " within dist_params.timeout=" + seconds_text(options.timeout) + " (WORLD_SIZE=" +
                             std::to_string(world) + "): were all processes started?");
    std::this_thread::sleep_for(kJoinPoll);
  }
}

void ProcessGroup::Impl::create_group() {
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(prefix + "c10d", store);
  if (options.backend == "gloo") {
    auto o = c10d::ProcessGroupGloo::Options::create(options.timeout);
    if (const char* ifnames = std::getenv("GLOO_SOCKET_IFNAME"); ifnames && *ifnames) {
      std::stringstream list(ifnames);
      for (std::string name; std::getline(list, name, ',');)
        if (!name.empty()) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    } else if (is_loopback(env.master_addr)) {
      // Every rank is on this machine: keep the traffic on the loopback interface.
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, o);
    return;
  }
#ifdef USE_C10D_NCCL
  if (options.backend == "nccl") {
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = options.timeout;
    group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env.rank, env.world_size, o);
    return;
  }
#endif
  throw DistributedError("dist_params.backend: '" + options.backend + "' is not available in this build (gloo" +
#ifdef USE_C10D_NCCL
                         std::string(", nccl") +
#else
                         std::string("; nccl needs a CUDA build of cppdet") +
#endif
                         ")");
}

std::string ProcessGroup::Impl::diagnose() const {
  const int rank = env.rank, world = env.world_size;
  try {
    c10::intrusive_ptr<c10d::TCPStore> probe = store_client(env, kProbeTimeout);
    probe->set(key("failing/" + std::to_string(rank)), to_bytes("1"));
    std::vector<int64_t> before(world), after(world);
    for (int r = 0; r < world; ++r) before[r] = probe->add(key("hb/" + std::to_string(r)), 0);
    std::this_thread::sleep_for(kDiagnoseWindow);
    std::vector<int> lost, alive;
    for (int r = 0; r < world; ++r) {
      if (r == rank) continue;
      after[r] = probe->add(key("hb/" + std::to_string(r)), 0);
      if (after[r] == before[r] && !probe->check({key("failing/" + std::to_string(r))}))
        lost.push_back(r);
      else
        alive.push_back(r);
    }
    probe->set(key("diagnosed/" + std::to_string(rank)), to_bytes("1"));
    if (rank == 0 && !env.agent_store) {
      // This process hosts the store: keep it up until the other failing ranks have looked.
      const auto deadline = Clock::now() + kDiagnoseWindow + kProbeTimeout;
      for (int r : alive)
        while (!probe->check({key("diagnosed/" + std::to_string(r))}) && Clock::now() < deadline)
          std::this_thread::sleep_for(kJoinPoll);
    }
    if (lost.empty())
      return "no rank has died, but a rank did not take part within dist_params.timeout=" +
             seconds_text(options.timeout) + " (it is slower, e.g. still evaluating, or stuck)";
    return std::string(lost.size() == 1 ? "lost rank " : "lost ranks ") + rank_list(lost) +
           " (its process ended or was killed: its heartbeat stopped)";
  } catch (const std::exception&) {
    if (env.agent_store)
      return "lost the torchrun agent that hosts the rendezvous store at " + endpoint(env);
    return "lost rank 0, the master (the rendezvous store it hosts at " + endpoint(env) +
           " is unreachable: its process ended or was killed)";
  }
}

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() {
  impl_->heartbeat.reset();
  impl_->group.reset();
  impl_->store.reset();
}

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const LaunchEnv& env, const GroupOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->options = options;
  impl->device = torch::Device(options.device);
  const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT");
  impl->prefix = std::string("cppdet/") + (restart ? restart : "0") + "/";
  const std::string rank_text = "rank " + std::to_string(env.rank);
  const bool host = env.rank == 0 && !env.agent_store;

  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env.master_port);
  so.isServer = host;
  so.waitWorkers = false;
  so.timeout = options.timeout;
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    const std::string cause = first_line(e.what());
    if (host && (cause.find("in use") != std::string::npos || cause.find("failed to listen") != std::string::npos))
      throw DistributedError("rank 0 cannot host the rendezvous store: MASTER_PORT=" + std::to_string(env.master_port) +
                             " is already in use on this machine (another run? choose a free port with PORT=... "
                             "for the scripts or MASTER_PORT=...) [" + cause + "]");
    throw DistributedError(rank_text + " cannot reach the master's rendezvous store at " + endpoint(env) + " within " +
                           "dist_params.timeout=" + seconds_text(options.timeout) +
                           ": is rank 0 running, and are MASTER_ADDR and MASTER_PORT right? [" + cause + "]");
  }
  try {
    impl->rendezvous();
    impl->create_group();
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError(rank_text + ": connecting the process group through " + endpoint(env) + " failed: " +
                           first_line(e.what()));
  }
  if (env.world_size > 1)
    impl->heartbeat = std::make_unique<ProcessGroupHeartbeat>(env, impl->key("hb/" + std::to_string(env.rank)));
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const { return impl_->env.rank; }
int ProcessGroup::world_size() const { return impl_->env.world_size; }
const std::string& ProcessGroup::backend() const { return impl_->options.backend; }
torch::Device ProcessGroup::device() const { return impl_->device; }
std::chrono::milliseconds ProcessGroup::timeout() const { return impl_->options.timeout; }

void ProcessGroup::fail(const std::string& what, const std::exception& error) {
  const std::string cause = first_line(error.what());
  const std::string verdict = impl_->diagnose();
  throw DistributedError(what + " failed on rank " + std::to_string(rank()) + ": " + verdict + " [" + cause + "]");
}

void ProcessGroup::all_reduce(torch::Tensor& tensor, ReduceOp op) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::AllreduceOptions o;
  o.reduceOp = op == ReduceOp::Sum ? c10d::ReduceOp::SUM : c10d::ReduceOp::MAX;
  try {
    impl_->group->allreduce(tensors, o)->wait();
  } catch (const std::exception& e) {
    fail("all_reduce", e);
  }
}

ProcessGroup::Pending ProcessGroup::all_reduce_async(torch::Tensor tensor) {
  std::vector<at::Tensor> tensors{std::move(tensor)};
  Pending pending;
  pending.impl_ = std::make_unique<Pending::Impl>();
  pending.impl_->group = this;
  try {
    pending.impl_->work = impl_->group->allreduce(tensors);
  } catch (const std::exception& e) {
    fail("the gradient all_reduce", e);
  }
  return pending;
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  constexpr size_t kBufferBytes = size_t{256} << 20;
  try {
    c10d::broadcast_coalesced(impl_->group, tensors, kBufferBytes, root);
  } catch (const std::exception& e) {
    fail("broadcast", e);
  }
}

std::vector<torch::Tensor> ProcessGroup::all_gather(const torch::Tensor& tensor) {
  std::vector<at::Tensor> input{tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < world_size(); ++r) output[0].push_back(torch::empty_like(input[0]));
  try {
    impl_->group->allgather(output, input)->wait();
  } catch (const std::exception& e) {
    fail("all_gather", e);
  }
  return output[0];
}

std::vector<std::string> ProcessGroup::all_gather_bytes(const std::string& bytes) {
  const auto on_device = torch::TensorOptions().device(impl_->device);
  const torch::Tensor size = torch::tensor({static_cast<int64_t>(bytes.size())}, on_device.dtype(torch::kLong));
  const std::vector<torch::Tensor> sizes = all_gather(size);
  int64_t longest = 0;
  std::vector<int64_t> lengths;
  for (const torch::Tensor& s : sizes) {
    lengths.push_back(s.item<int64_t>());
    longest = std::max(longest, lengths.back());
  }
  torch::Tensor padded = torch::zeros({std::max<int64_t>(longest, 1)}, torch::kUInt8);
  std::memcpy(padded.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  const std::vector<torch::Tensor> parts = all_gather(padded.to(impl_->device));
  std::vector<std::string> out;
  for (size_t r = 0; r < parts.size(); ++r) {
    const torch::Tensor cpu = parts[r].cpu();
    out.emplace_back(reinterpret_cast<const char*>(cpu.data_ptr<uint8_t>()), static_cast<size_t>(lengths[r]));
  }
  return out;
}

std::string ProcessGroup::broadcast_string(const std::string& value, int root) {
  const auto on_device = torch::TensorOptions().device(impl_->device);
  torch::Tensor size = torch::tensor({static_cast<int64_t>(value.size())}, on_device.dtype(torch::kLong));
  broadcast({size}, root);
  const int64_t n = size.item<int64_t>();
  torch::Tensor bytes = torch::zeros({std::max<int64_t>(n, 1)}, torch::kUInt8);
  if (rank() == root) std::memcpy(bytes.data_ptr<uint8_t>(), value.data(), value.size());
  bytes = bytes.to(impl_->device);
  broadcast({bytes}, root);
  const torch::Tensor cpu = bytes.cpu();
  return std::string(reinterpret_cast<const char*>(cpu.data_ptr<uint8_t>()), static_cast<size_t>(n));
}

void ProcessGroup::barrier() {
  try {
    impl_->group->barrier()->wait();
  } catch (const std::exception& e) {
    fail("barrier", e);
  }
}

void set_default_group(std::shared_ptr<ProcessGroup> group) { g_default_group = std::move(group); }
ProcessGroup* default_group() { return g_default_group.get(); }
std::shared_ptr<ProcessGroup> default_group_ptr() { return g_default_group; }
int rank() { return g_default_group ? g_default_group->rank() : 0; }
int world_size() { return g_default_group ? g_default_group->world_size() : 1; }

}  // namespace cppdet::distributed
