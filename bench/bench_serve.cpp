// Load on `cppdet serve` over loopback, bounded in requests and time:
//
//   build/bench/bench_serve [--requests 500] [--clients 8] [--batch 4] [--delay-ms 10] [--workers 1]
//                           [--threads N] [--image demo/demo.jpg] [--timeout-s 900] [--source-dir .]
//                           [--cppdet build/bin/cppdet]
//
// Starts `cppdet serve` on the quick start's tiny Mask R-CNN (tests/fixtures/oracle_cases/
// mask_tiny_r50) twice, each on 127.0.0.1 with a free port: unbatched (--max-batch 1) and
// batched (--max-batch B --max-delay-ms D). Each time `clients` threads, each on its own
// keep-alive connection, send `requests` POST /predictions of the image between them (after
// one warm-up request per client, not counted). Prints failed requests, p50 / p99 latency,
// requests/s, the server's resident memory after each response (mean over the first and the
// last 100 responses, their ratio, and the peak VmHWM), and the batched / unbatched throughput
// ratio. The server gets --threads intra-op threads in all (CPPDET_NUM_THREADS).
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Args {
  int requests = 500;
  int clients = 8;
  int batch = 4;
  int delay_ms = 10;
  int workers = 1;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int timeout_s = 900;
  std::string image = "demo/demo.jpg";
  std::string source_dir = ".";
  std::string cppdet = CPPDET_BENCH_EXE;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A value of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 when unreadable.
long proc_status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

class Server {
 public:
  Server(const Args& args, const std::vector<std::string>& extra) {
    log_ = (fs::temp_directory_path() / ("cppdet-bench-serve-" + std::to_string(getpid()) + ".log")).string();
    const std::string case_dir = args.source_dir + "/tests/fixtures/oracle_cases/mask_tiny_r50/";
    std::vector<std::string> argv_s = {args.cppdet, "serve", case_dir + "config.py", case_dir + "checkpoint_zip.pth",
                                       "--model-name", "tiny", "--port", "0", "--workers", std::to_string(args.workers),
                                       "--queue-size", std::to_string(std::max(32, 2 * args.clients))};
    argv_s.insert(argv_s.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s = {"CPPDET_NUM_THREADS=" + std::to_string(args.threads)};
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "CPPDET_NUM_THREADS=", 19) != 0) env_s.emplace_back(*e);
    std::vector<char*> envp;
    for (std::string& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0)
      throw std::runtime_error("cannot start " + args.cppdet);
    posix_spawn_file_actions_destroy(&actions);
    const std::regex serving(R"(serving model '\w+' on http://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 3000; ++i) {
      std::smatch m;
      const std::string text = read_file(log_);
      if (std::regex_search(text, m, serving)) {
        port_ = std::stoi(m[1]);
        return;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("cppdet serve exited:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("cppdet serve did not start:\n" + read_file(log_));
  }

  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove(log_);
  }

  // SIGTERM and the exit status (-1: killed after 60 s).
  int stop() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 3000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
};

struct RunResult {
  int ok = 0, failed = 0;
  double seconds = 0, p50_ms = 0, p99_ms = 0;
  double rss_first_mib = 0, rss_last_mib = 0, peak_mib = 0;
  int exit_status = -1;
  double rps() const { return ok / seconds; }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

RunResult load(const Args& args, const std::string& image, const std::vector<std::string>& server_args) {
  Server server(args, server_args);
  std::atomic<int> next{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::vector<long> rss_kib;  // after each response, in completion order
  RunResult out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.timeout_s);
  auto client_loop = [&] {
    httplib::Client cli("127.0.0.1", server.port());
    cli.set_keep_alive(true);
    cli.set_read_timeout(120);
    cli.Post("/predictions/tiny", image, "image/jpeg");  // warm-up
    for (;;) {
      const int i = next++;
      if (i >= args.requests || std::chrono::steady_clock::now() > deadline) return;
      const auto t0 = std::chrono::steady_clock::now();
      auto r = cli.Post("/predictions/tiny", image, "image/jpeg");
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const long rss = proc_status_kib(server.pid(), "VmRSS");
      std::lock_guard<std::mutex> lock(mutex);
      if (r && r->status == 200) {
        ++out.ok;
        latencies_ms.push_back(ms);
      } else {
        ++out.failed;
      }
      rss_kib.push_back(rss);
    }
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < args.clients; ++c) clients.emplace_back(client_loop);
  for (std::thread& t : clients) t.join();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.failed += args.requests - out.ok - out.failed;  // not sent before the time limit
  out.p50_ms = percentile(latencies_ms, 50);
  out.p99_ms = percentile(latencies_ms, 99);
  const size_t window = std::min<size_t>(100, rss_kib.size());
  for (size_t i = 0; i < window; ++i) {
    out.rss_first_mib += rss_kib[i] / 1024.0 / window;
    out.rss_last_mib += rss_kib[rss_kib.size() - window + i] / 1024.0 / window;
  }
  out.peak_mib = proc_status_kib(server.pid(), "VmHWM") / 1024.0;
  out.exit_status = server.stop();
  return out;
}

void print(const std::string& name, const RunResult& r) {
  std::printf("%-28s ok %d failed %d | p50 %.1f ms p99 %.1f ms | %.2f req/s | RSS first100 %.1f MiB last100 %.1f MiB "
              "(x%.3f) peak %.1f MiB | exit %d\n",
              name.c_str(), r.ok, r.failed, r.p50_ms, r.p99_ms, r.rps(), r.rss_first_mib, r.rss_last_mib,
              r.rss_last_mib / r.rss_first_mib, r.peak_mib, r.exit_status);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"load on cppdet serve over loopback: unbatched vs dynamic batching"};
  app.add_option("--requests", args.requests, "requests per run (default 500)")->check(CLI::Range(1, 100000));
  app.add_option("--clients", args.clients, "concurrent clients (default 8)")->check(CLI::Range(1, 256));
  app.add_option("--batch", args.batch, "--max-batch of the batched run (default 4)")->check(CLI::Range(2, 64));
  app.add_option("--delay-ms", args.delay_ms, "--max-delay-ms of the batched run (default 10)");
  app.add_option("--workers", args.workers, "--workers of the server (default 1)")->check(CLI::Range(1, 64));
  app.add_option("--threads", args.threads, "intra-op threads of the server in all (default: cores)");
  app.add_option("--timeout-s", args.timeout_s, "time limit of each run (default 900)");
  app.add_option("--image", args.image, "image to post (default demo/demo.jpg)");
  app.add_option("--source-dir", args.source_dir, "repository root (default .)");
  app.add_option("--cppdet", args.cppdet, "the cppdet executable");
  CLI11_PARSE(app, argc, argv);
  try {
    const std::string image = read_file(args.image);
    std::printf("cppdet serve, tiny Mask R-CNN, %s (%zu bytes), %d requests, %d clients, %d worker(s), %d thread(s)\n",
                args.image.c_str(), image.size(), args.requests, args.clients, args.workers, args.threads);
    const RunResult single = load(args, image, {"--max-batch", "1"});
    print("--max-batch 1", single);
    const RunResult batched = load(args, image, {"--max-batch", std::to_string(args.batch), "--max-delay-ms",
                                                 std::to_string(args.delay_ms)});
    print("--max-batch " + std::to_string(args.batch) + " --max-delay-ms " + std::to_string(args.delay_ms), batched);
    std::printf("throughput batched / unbatched: %.3f\n", batched.rps() / single.rps());
    const bool flat = batched.rss_last_mib <= 1.05 * batched.rss_first_mib && single.rss_last_mib <= 1.05 * single.rss_first_mib;
    const bool clean = single.failed == 0 && batched.failed == 0 && single.exit_status == 0 && batched.exit_status == 0;
    std::printf("failed requests: %d; RSS of the last 100 within 5%% of the first 100: %s; clean exits: %s\n",
                single.failed + batched.failed, flat ? "yes" : "NO", clean ? "yes" : "NO");
    return clean && flat ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_serve: %s\n", e.what());
    return 1;
  }
}
