#pragma once
// Helpers shared by the benchmarks (header-only: every bench/*.cpp is its own executable):
// medians, process CPU time and peak RSS, running a worker process whose last stdout line is
// its JSON result, and a minimal aten operator profiler.
#include <ATen/record_function.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace cppdet::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Peak resident set size of this process so far, KiB.
inline long peak_rss_kib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// CPU time of this process (all threads, user + system), ms.
inline double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

inline double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs fn warmup + iters times; records each timed run's wall and CPU (all threads) time into
// out[<name>_ms], out[<name>_cpu_ms] and their medians (<name>_median_ms, <name>_cpu_median_ms).
template <typename Fn>
void time_into(nlohmann::json& out, const std::string& name, int warmup, int iters, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> wall, cpu;
  for (int i = 0; i < iters; ++i) {
    const double w0 = now_ms(), c0 = process_cpu_ms();
    fn();
    cpu.push_back(process_cpu_ms() - c0);
    wall.push_back(now_ms() - w0);
  }
  out[name + "_ms"] = wall;
  out[name + "_cpu_ms"] = cpu;
  out[name + "_median_ms"] = median(wall);
  out[name + "_cpu_median_ms"] = median(cpu);
}

// Runs argv (argv[0] a path), returns its stdout's last line parsed as JSON; throws when it
// cannot start or exits non-zero.
inline nlohmann::json run_json(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ) != 0)
    throw std::runtime_error("cannot run " + argv[0]);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(argv[0] + " failed");
  const size_t start = text.find_last_of('\n', text.size() >= 2 ? text.size() - 2 : 0);
  return nlohmann::json::parse(start == std::string::npos ? text : text.substr(start + 1));
}

// Self time (wall, ms) per at::RecordFunction name over one call of a function, counting the
// calling thread only (intra-op worker threads run inside the caller's operators):
//   json ops = OpProfile::top_ops([&] { model->simple_test(img, metas); }, 10);
// gives [{"name", "self_ms", "calls"}, ...], largest self time first.
class OpProfile {
 public:
  template <typename Fn>
  static nlohmann::json top_ops(Fn&& fn, size_t n) {
    OpProfile profile;
    profile.thread_ = std::this_thread::get_id();
    current() = &profile;
    const at::CallbackHandle handle = at::addGlobalCallback(at::RecordFunctionCallback(on_start, on_end));
    fn();
    at::removeCallback(handle);
    current() = nullptr;
    std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(profile.self_ms_.begin(), profile.self_ms_.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < std::min(n, rows.size()); ++i)
      out.push_back({{"name", rows[i].first}, {"self_ms", rows[i].second.first}, {"calls", rows[i].second.second}});
    return out;
  }

 private:
  struct Frame {
    const char* name;
    double start;
    double children = 0;
  };

  static OpProfile*& current() {
    static OpProfile* p = nullptr;
    return p;
  }
  static std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    OpProfile* p = current();
    if (p && std::this_thread::get_id() == p->thread_) p->stack_.push_back({fn.name(), now_ms()});
    return nullptr;
  }
  static void on_end(const at::RecordFunction&, at::ObserverContext*) {
    OpProfile* p = current();
    if (!p || std::this_thread::get_id() != p->thread_ || p->stack_.empty()) return;
    const Frame f = p->stack_.back();
    p->stack_.pop_back();
    const double total = now_ms() - f.start;
    auto& entry = p->self_ms_[f.name];
    entry.first += total - f.children;
    entry.second += 1;
    if (!p->stack_.empty()) p->stack_.back().children += total;
  }

  std::vector<Frame> stack_;
  std::map<std::string, std::pair<double, int64_t>> self_ms_;  // name -> (self ms, calls)
  std::thread::id thread_;
};

}  // namespace cppdet::bench
