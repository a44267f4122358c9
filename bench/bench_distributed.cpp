// Gradient all-reduce of a distributed run, cppdet against Python torch.distributed (Gloo, the
// same Debian LibTorch underneath), measured in one run:
//   bench_distributed [--config faster_rcnn_r50_fpn_1x_coco.py] [--iters 10] [--world 2]
//                     [--python /usr/bin/python3]
// The gradients are the trainable parameters of the config's model (Faster R-CNN R50-FPN:
// ~41 M floats, stage 1 frozen). Two measurements per side, each the median over `iters`
// iterations on rank 0 of `world` processes on 127.0.0.1:
//   buckets: the 25 MiB buckets (1 MiB first) all-reduced, started together, then waited for
//            (cppdet's ProcessGroup vs dist.all_reduce(async_op=True));
//   ddp:     a backward whose gradients are the parameters' fixed random values, through
//            distributed::DistributedDataParallel vs torch.nn.parallel.DistributedDataParallel
//            (bucketing, the all-reduce overlapped with backward, averaged gradients written back).
// Prints each side's times and the ratios cppdet / Python (goal <= 1.1).
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "bench_support.h"
#include "cppdet/config/config_file.h"
#include "cppdet/distributed/data_parallel.h"
#include "cppdet/distributed/process_group.h"
#include "cppdet/models/detector.h"

namespace {

using cppdet::bench::median;
using cppdet::bench::now_ms;
namespace dist = cppdet::distributed;

constexpr int64_t kBucketBytes = int64_t{25} << 20, kFirstBucketBytes = int64_t{1} << 20;

// The Python peer: the same two measurements with torch.distributed.
constexpr const char* kPeer = R"(
import json, os, sys, time, statistics, torch, torch.distributed as dist
torch.set_num_threads(1)
shapes, iters = json.load(open(sys.argv[1])), int(sys.argv[2])
dist.init_process_group('gloo')
rank = dist.get_rank()
g = torch.Generator(); g.manual_seed(rank)
params = [torch.nn.Parameter(torch.randn(s, generator=g)) for s in shapes]
# buckets: reverse order, 1 MiB first then 25 MiB, as DDP fills them
sizes, buckets, cur, cap = [], [], 0, %d
for p in reversed(params):
    n = p.numel() * 4
    if cur and cur + n > cap:
        buckets.append(cur); cur = 0; cap = %d
    cur += n
buckets.append(cur)
flat = [torch.randn(b // 4, generator=g) for b in buckets]
def bucket_step():
    works = [dist.all_reduce(t, async_op=True) for t in flat]
    for w in works: w.wait()
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = torch.nn.ParameterList(params)
    def forward(self, gs):
        return sum((p * q).sum() for p, q in zip(self.ps, gs))
model = torch.nn.parallel.DistributedDataParallel(M(), broadcast_buffers=False)
gs = [torch.randn(s, generator=g) for s in shapes]
def ddp_step():
    model.zero_grad(set_to_none=False)
    model(gs).backward()
def backward_only():
    loss = sum((p * q).sum() for p, q in zip(params, gs))
    for p in params:
        if p.grad is not None: p.grad.zero_()
    loss.backward()
out = {}
for name, fn in (('buckets', bucket_step), ('ddp', ddp_step), ('backward', backward_only)):
    times = []
    for i in range(iters + 2):
        dist.barrier(); t = time.perf_counter(); fn(); dist.barrier()
        if i >= 2: times.append((time.perf_counter() - t) * 1e3)
    out[name] = statistics.median(times)
if rank == 0: print(json.dumps(out))
)";

// This process as rank `rank` of the cppdet side; prints {"buckets": ms, "ddp": ms} on rank 0.
int worker(const std::vector<std::vector<int64_t>>& shapes, int iters) {
  at::set_num_threads(1);
  const dist::LaunchEnv env = dist::launch_env(dist::Launcher::PyTorch);
  std::shared_ptr<dist::ProcessGroup> group = dist::ProcessGroup::connect(env, {});
  torch::manual_seed(env.rank);
  struct Params : torch::nn::Module {};
  Params module;
  std::vector<torch::Tensor> params, gs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    params.push_back(module.register_parameter("p" + std::to_string(i), torch::randn(shapes[i])));
    gs.push_back(torch::randn(shapes[i]));
  }
  std::vector<int64_t> bucket_bytes{0};
  int64_t cap = kFirstBucketBytes;
  for (size_t k = params.size(); k-- > 0;) {
    const int64_t n = params[k].numel() * 4;
    if (bucket_bytes.back() > 0 && bucket_bytes.back() + n > cap) {
      bucket_bytes.push_back(0);
      cap = kBucketBytes;
    }
    bucket_bytes.back() += n;
  }
  std::vector<torch::Tensor> flat;
  for (int64_t b : bucket_bytes) flat.push_back(torch::randn({b / 4}));
  dist::DistributedDataParallel ddp(module, *group);

  const auto bucket_step = [&] {
    std::vector<dist::ProcessGroup::Pending> pending;
    for (torch::Tensor& t : flat) pending.push_back(group->all_reduce_async(t));
    for (auto& p : pending) p.wait();
  };
  const auto loss = [&] {
    torch::Tensor total = torch::zeros({});
    for (size_t i = 0; i < params.size(); ++i) total = total + (params[i] * gs[i]).sum();
    return total;
  };
  const auto ddp_step = [&] {
    for (torch::Tensor& p : params)
      if (p.grad().defined()) p.mutable_grad().zero_();
    loss().backward();
    ddp.finish_backward();
  };
  nlohmann::json out;
  for (const auto& [name, step] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"buckets", bucket_step}, {"ddp", ddp_step}}) {
    std::vector<double> times;
    for (int i = 0; i < iters + 2; ++i) {
      group->barrier();
      const double t = now_ms();
      step();
      group->barrier();
      if (i >= 2) times.push_back(now_ms() - t);
    }
    out[name] = median(times);
  }
  if (env.rank == 0) std::cout << out.dump() << std::endl;
  return 0;
}

// Runs `argv` as ranks 0..world-1 on `port`; rank 0's last stdout line as JSON.
nlohmann::json run_ranks(const std::vector<std::string>& argv, int world, int port) {
  std::vector<pid_t> others;
  for (int r = 1; r < world; ++r) {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> cargv;
      for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    others.push_back(pid);
  }
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  nlohmann::json result = cppdet::bench::run_json(argv);
  for (pid_t pid : others) waitpid(pid, nullptr, 0);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gradient all-reduce: cppdet vs Python torch.distributed (Gloo)"};
  std::string config = "configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py", python = "/usr/bin/python3", shapes_file;
  int iters = 10, world = 2, port = 29731;
  app.add_option("--config", config, "model whose trainable parameters are the gradients");
  app.add_option("--iters", iters, "timed iterations (after 2 warm-up ones)");
  app.add_option("--world", world, "processes");
  app.add_option("--port", port, "MASTER_PORT for the runs (this and the next one)");
  app.add_option("--python", python, "Python with torch");
  app.add_option("--worker", shapes_file, "internal: run as a cppdet rank with these shapes");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!shapes_file.empty()) {
      const nlohmann::json shapes = nlohmann::json::parse(std::ifstream(shapes_file));
      return worker(shapes.get<std::vector<std::vector<int64_t>>>(), iters);
    }
    const auto cfg = cppdet::config::load_config(config);
    auto model = cppdet::models::build_detector(cfg.as_dict().at("model"));
    nlohmann::json shapes = nlohmann::json::array();
    int64_t floats = 0;
    for (const auto& p : model->named_parameters()) {
      if (!p.value().requires_grad()) continue;
      shapes.push_back(p.value().sizes().vec());
      floats += p.value().numel();
    }
    const std::string dir = std::filesystem::temp_directory_path() / ("bench-dist-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/shapes.json") << shapes.dump();
    char peer_source[8192];
    std::snprintf(peer_source, sizeof peer_source, kPeer, static_cast<int>(kFirstBucketBytes), static_cast<int>(kBucketBytes));
    std::ofstream(dir + "/peer.py") << peer_source;
    std::cout << "gradients: " << shapes.size() << " tensors, " << floats << " floats (" << config << "), " << world
              << " processes x 1 thread, median of " << iters << " iterations\n";
    const std::string self = std::filesystem::canonical("/proc/self/exe");
    const nlohmann::json ours = run_ranks({self, "--worker", dir + "/shapes.json", "--iters", std::to_string(iters)}, world, port);
    const nlohmann::json peer = run_ranks({python, dir + "/peer.py", dir + "/shapes.json", std::to_string(iters)}, world, port + 1);
    std::filesystem::remove_all(dir);
    std::printf("%-10s %12s %12s %8s\n", "", "cppdet ms", "python ms", "ratio");
    for (const char* k : {"buckets", "ddp"})
      std::printf("%-10s %12.1f %12.1f %8.2f\n", k, ours[k].get<double>(), peer[k].get<double>(),
                  ours[k].get<double>() / peer[k].get<double>());
    std::printf("(python's backward alone, no all-reduce: %.1f ms)\n", peer["backward"].get<double>());
  } catch (const std::exception& e) {
    std::cerr << "bench_distributed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
