// Distributed training and testing as users run them: several `cppdet` processes on
// 127.0.0.1 joined by --launcher pytorch (or the Slurm variables), on the quick-start Mask
// R-CNN shrunk to 64x64 synthetic images. Equivalence of data-parallel gradients and SyncBN
// statistics with one process, scripts/dist_train.sh and dist_test.sh end to end, and the
// faults: a killed rank, --auto-resume after it, a busy port, an unreachable master,
// mismatched world sizes. Every process a test starts is ended by the test.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cppdet/io/checkpoint.h"
#include "support/test_support.h"

extern char** environ;

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using cppdet::testing::json_logs;
using cppdet::testing::log_records;
using cppdet::testing::make_temp_dir;
using cppdet::testing::read_text;
using cppdet::testing::run_command;
using cppdet::testing::shell_quote;
using Env = std::map<std::string, std::string>;

// Hang guard for one process (not a timing assertion): far above the seconds it needs.
constexpr double kGuardSeconds = 240;

// Processes started by a test; whatever still runs when it ends is killed and reaped.
class Processes {
 public:
  ~Processes() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  // Starts `cppdet ARGS` with the environment plus `env` (one intra-op thread), its stdout
  // and stderr into `log`; the pid.
  pid_t start(const std::vector<std::string>& args, const Env& env, const std::string& log) {
    std::vector<std::string> argv_strings{cppdet::testing::cppdet_exe()};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    Env all = env;
    all.emplace("CPPDET_NUM_THREADS", "1");
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      const std::string entry(*e);
      if (!all.count(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
    }
    for (const auto& [k, v] : all) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    pids_.insert(pid);
    return pid;
  }
  // The exit status (128 + signal when killed by one); -1 when the guard had to kill it.
  int wait(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kGuardSeconds);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        pids_.erase(pid);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pids_.erase(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  bool running(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) return true;
    pids_.erase(pid);
    return false;
  }

 private:
  std::set<pid_t> pids_;
};

// torchrun's variables for rank `rank` of `world` on 127.0.0.1:port.
Env rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)},         {"LOCAL_RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(world)},   {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}};
}

std::map<std::string, torch::Tensor> read_tensors(const std::string& path) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, t] : io::read_checkpoint(path).state_dict) out[name] = t;
  return out;
}

class Distributed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(make_temp_dir("dist"));
    const auto r = cppdet::testing::run_cppdet("data synth-shapes " + shell_quote(*root_ + "/shapes") +
                                               " --train 16 --val 5 --seed 2 --size 64x64");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  static std::string path(const std::string& name) { return *root_ + "/" + name; }
  static std::string config() { return cppdet::testing::source_dir() + "/configs/quickstart/mask_rcnn_r18_fpn_shapes.py"; }

  // --cfg-options shrinking the quick-start config to the 64x64 data set: batch 2 per process,
  // short warmup, a log line per iteration, `epochs` epochs, a 60 s collective timeout.
  static std::vector<std::string> small(int epochs, std::vector<std::string> extra = {}) {
    const std::string d = *root_ + "/shapes/";
    std::vector<std::string> o = {"--cfg-options",
                                  "data.train.ann_file=" + d + "annotations/instances_train.json",
                                  "data.train.img_prefix=" + d + "train/",
                                  "data.val.ann_file=" + d + "annotations/instances_val.json",
                                  "data.val.img_prefix=" + d + "val/",
                                  "data.test.ann_file=" + d + "annotations/instances_val.json",
                                  "data.test.img_prefix=" + d + "val/",
                                  "data.train.pipeline.2.img_scale=(64,64)",
                                  "data.val.pipeline.1.img_scale=(64,64)",
                                  "data.test.pipeline.1.img_scale=(64,64)",
                                  "data.samples_per_gpu=2",
                                  "data.workers_per_gpu=0",
                                  "runner.max_epochs=" + std::to_string(epochs),
                                  "lr_config.warmup_iters=4",
                                  "log_config.interval=1",
                                  "dist_params.timeout=60"};
    o.insert(o.end(), extra.begin(), extra.end());
    return o;
  }

  // An annotation file with only the images of instances_train.json at `positions`.
  static std::string annotations_of(const std::vector<size_t>& positions, const std::string& name) {
    const Json all = Json::parse(read_text(*root_ + "/shapes/annotations/instances_train.json"));
    Json out = all;
    out["images"] = Json::array();
    out["annotations"] = Json::array();
    std::set<int64_t> ids;
    for (size_t p : positions) {
      out["images"].push_back(all["images"][p]);
      ids.insert(all["images"][p]["id"].get<int64_t>());
    }
    for (const Json& a : all["annotations"])
      if (ids.count(a["image_id"].get<int64_t>())) out["annotations"].push_back(a);
    const std::string file = path(name);
    std::ofstream(file) << out.dump();
    return file;
  }

  static std::string* root_;
};
std::string* Distributed::root_ = nullptr;

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The relative difference of two tensors, ||a - b|| / max(||b||, tiny).
double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double diff = (a.to(torch::kDouble) - b.to(torch::kDouble)).norm().item<double>();
  return diff / std::max(b.to(torch::kDouble).norm().item<double>(), 1e-30);
}

TEST_F(Distributed, TwoRanksGradientsAreTheMeanOfEachImagesGradients) {
  const std::string only_a = annotations_of({0}, "a.json"), only_b = annotations_of({1}, "b.json");
  const std::string both = annotations_of({0, 1}, "ab.json");
  const auto step_args = [&](const std::string& ann, const std::vector<std::string>& extra) {
    return concat(concat({"train-step", config()}, extra),
                  small(1, {"data.samples_per_gpu=1", "data.train.ann_file=" + ann}));
  };
  Processes procs;
  const pid_t a = procs.start(step_args(only_a, {"--save-grads", path("grad_a.pth")}), {}, path("a.out"));
  const pid_t b = procs.start(step_args(only_b, {"--save-grads", path("grad_b.pth")}), {}, path("b.out"));
  const int port = cppdet::testing::free_tcp_port();
  std::vector<pid_t> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(procs.start(step_args(both, {"--launcher", "pytorch", "--save-grads", path("grad_r{rank}.pth"),
                                                 "--save-weights", path("weights_r{rank}.pth")}),
                                rank_env(r, 2, port), path("rank" + std::to_string(r) + ".out")));
  ASSERT_EQ(procs.wait(a), 0) << read_text(path("a.out"));
  ASSERT_EQ(procs.wait(b), 0) << read_text(path("b.out"));
  for (int r = 0; r < 2; ++r) ASSERT_EQ(procs.wait(ranks[r]), 0) << read_text(path("rank" + std::to_string(r) + ".out"));

  const auto ga = read_tensors(path("grad_a.pth")), gb = read_tensors(path("grad_b.pth"));
  const auto g0 = read_tensors(path("grad_r0.pth")), g1 = read_tensors(path("grad_r1.pth"));
  ASSERT_EQ(g0.size(), ga.size());
  ASSERT_GT(g0.size(), 50u);
  double worst = 0;
  std::string worst_name;
  for (const auto& [name, grad] : g0) {
    ASSERT_TRUE(ga.count(name) && gb.count(name)) << name;
    const torch::Tensor mean = (ga.at(name).to(torch::kDouble) + gb.at(name).to(torch::kDouble)) / 2;
    const double rel = relative_difference(grad, mean);
    if (rel > worst) worst = rel, worst_name = name;
    EXPECT_TRUE(torch::equal(grad, g1.at(name))) << name << ": the ranks hold different gradients";
  }
  EXPECT_LE(worst, 1e-6) << "largest relative difference at " << worst_name;
  std::cout << "largest relative difference to the mean of the one-image gradients: " << worst << " (" << worst_name
            << ")\n";
  const auto w0 = read_tensors(path("weights_r0.pth")), w1 = read_tensors(path("weights_r1.pth"));
  for (const auto& [name, w] : w0)
    if (name.find("running_") == std::string::npos && name.find("num_batches") == std::string::npos)
      EXPECT_TRUE(torch::equal(w, w1.at(name))) << name << " differs between the ranks after the step";
}

TEST_F(Distributed, SyncBnStatisticsEqualOneProcessSeeingBothImages) {
  const std::string both = annotations_of({0, 1}, "ab_sync.json");
  const std::vector<std::string> sync = {"model.backbone.norm_cfg.type=SyncBN", "model.neck.norm_cfg.type=SyncBN",
                                         "model.roi_head.mask_head.norm_cfg.type=SyncBN"};
  Processes procs;
  // One process, BN over the batch of both images.
  const pid_t single = procs.start(
      concat({"train-step", config(), "--save-weights", path("sync_single.pth")},
             small(1, {"data.train.ann_file=" + both})),
      {}, path("sync_single.out"));
  // Two processes of one image each, SyncBN.
  const int port = cppdet::testing::free_tcp_port();
  std::vector<pid_t> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(procs.start(concat({"train-step", config(), "--launcher", "pytorch", "--save-weights",
                                        path("sync_r{rank}.pth")},
                                       small(1, concat({"data.samples_per_gpu=1", "data.train.ann_file=" + both}, sync))),
                                rank_env(r, 2, port), path("sync_rank" + std::to_string(r) + ".out")));
  ASSERT_EQ(procs.wait(single), 0) << read_text(path("sync_single.out"));
  for (int r = 0; r < 2; ++r)
    ASSERT_EQ(procs.wait(ranks[r]), 0) << read_text(path("sync_rank" + std::to_string(r) + ".out"));
  const auto one = read_tensors(path("sync_single.pth"));
  const auto r0 = read_tensors(path("sync_r0.pth")), r1 = read_tensors(path("sync_r1.pth"));
  // The backbone's and the neck's statistics (the mask head's depend on the randomly sampled
  // RoIs, which one process draws for both images in sequence).
  int compared = 0;
  double worst = 0;
  for (const auto& [name, t] : one) {
    const bool stats = name.find("running_mean") != std::string::npos || name.find("running_var") != std::string::npos;
    if (!stats || (name.rfind("backbone.", 0) != 0 && name.rfind("neck.", 0) != 0)) continue;
    worst = std::max(worst, relative_difference(r0.at(name), t));
    EXPECT_LE(relative_difference(r0.at(name), t), 1e-5) << name;
    EXPECT_TRUE(torch::equal(r0.at(name), r1.at(name))) << name;
    ++compared;
  }
  EXPECT_GT(compared, 40);
  std::cout << "largest relative difference of SyncBN's running statistics to one process's: " << worst << "\n";
}

// The JSON log records of one work dir (there must be exactly one log).
std::vector<Json> only_log(const std::string& work_dir) {
  const std::vector<std::string> logs = json_logs(work_dir);
  EXPECT_EQ(logs.size(), 1u) << work_dir;
  return logs.empty() ? std::vector<Json>{} : log_records(logs.front());
}

TEST_F(Distributed, DistTrainThenDistTestMatchesOneProcess) {
  const std::string work = path("dist_train");
  const std::string port = std::to_string(cppdet::testing::free_tcp_port());
  std::string args;
  for (const std::string& a : concat({"--work-dir", work}, small(2))) args += " " + shell_quote(a);
  const auto trained = run_command("PORT=" + port + " CPPDET_NUM_THREADS=1 CPPDET=" + shell_quote(cppdet::testing::cppdet_exe()) +
                                   " bash " + shell_quote(cppdet::testing::source_dir() + "/scripts/dist_train.sh") + " " +
                                   shell_quote(config()) + " 2" + args);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("Distributed training: True"), std::string::npos) << trained.output;

  // One work dir, rank 0's logs: 16 images / (2 processes x 2) = 4 iterations per epoch.
  size_t text_logs = 0;
  for (const auto& e : fs::directory_iterator(work)) text_logs += e.path().extension() == ".log";
  EXPECT_EQ(text_logs, 1u);
  std::map<int, std::set<int>> iters;
  std::set<int> evaluated;
  for (const Json& r : only_log(work)) {
    if (r["mode"] == "train") iters[r["epoch"].get<int>()].insert(r["iter"].get<int>());
    if (r["mode"] == "val") {
      evaluated.insert(r["epoch"].get<int>());
      EXPECT_EQ(r["iter"], 3) << "each rank evaluates ceil(5 / 2) images";
      for (const char* key : {"bbox_mAP", "segm_mAP"}) {
        ASSERT_TRUE(r.contains(key)) << r.dump();
        EXPECT_GE(r[key].get<double>(), 0.0);
        EXPECT_LE(r[key].get<double>(), 1.0);
      }
    }
  }
  const std::set<int> four = {1, 2, 3, 4};
  EXPECT_EQ(iters, (std::map<int, std::set<int>>{{1, four}, {2, four}}));
  EXPECT_EQ(evaluated, (std::set<int>{1, 2}));
  EXPECT_EQ(fs::read_symlink(work + "/latest.pth").string(), "epoch_2.pth");
  const io::Checkpoint ckpt = io::read_checkpoint(work + "/epoch_2.pth");
  EXPECT_EQ(ckpt.meta.as_dict().at("epoch").as_int(), 2);
  EXPECT_EQ(ckpt.meta.as_dict().at("iter").as_int(), 8);
  const char* py = std::getenv("CPPDET_PYTHON");
  const std::string python = py && *py ? py : "/usr/bin/python3";
  if (run_command(python + " -c 'import torch'").exit_code == 0) {
    const auto loaded = run_command(python + " -c " +
                                    shell_quote("import sys, torch; c = torch.load(sys.argv[1], map_location='cpu'); "
                                                "print(c['meta']['epoch'], len(c['state_dict']))") +
                                    " " + shell_quote(work + "/epoch_2.pth"));
    EXPECT_EQ(loaded.exit_code, 0) << loaded.output;
    EXPECT_EQ(loaded.output.rfind("2 ", 0), 0u) << loaded.output;
  }

  // dist_test.sh (2 processes, 5 images: one padded) vs `cppdet test` in one process.
  // A low score threshold: many boxes and masks to compare.
  std::string test_args;
  for (const std::string& a : small(2, {"model.test_cfg.rcnn.score_thr=0.001"})) test_args += " " + shell_quote(a);
  const std::string ckpt_path = shell_quote(work + "/epoch_2.pth");
  const auto dist = run_command("PORT=" + std::to_string(cppdet::testing::free_tcp_port()) +
                                " CPPDET_NUM_THREADS=1 CPPDET=" + shell_quote(cppdet::testing::cppdet_exe()) + " bash " +
                                shell_quote(cppdet::testing::source_dir() + "/scripts/dist_test.sh") + " " +
                                shell_quote(config()) + " " + ckpt_path + " 2 --eval bbox segm --out " +
                                shell_quote(path("dist_results.json")) + test_args);
  ASSERT_EQ(dist.exit_code, 0) << dist.output;
  const auto one = run_command("CPPDET_NUM_THREADS=1 " + shell_quote(cppdet::testing::cppdet_exe()) + " test " +
                               shell_quote(config()) + " " + ckpt_path + " --eval bbox segm --out " +
                               shell_quote(path("one_results.json")) + test_args);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(read_text(path("dist_results.json")), read_text(path("one_results.json")));
  const auto metrics = [](const std::string& out) {
    const size_t at = out.find("OrderedDict(");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_FALSE(metrics(one.output).empty()) << one.output;
  EXPECT_EQ(metrics(dist.output), metrics(one.output));
}

TEST_F(Distributed, AKilledRankStopsTheOthersAndAutoResumeFinishesThePlan) {
  const std::string work = path("killed");
  // 3 epochs of 4 iterations per rank (16 images, 2 per process and iteration).
  const std::vector<std::string> args =
      concat({"train", config(), "--work-dir", work, "--launcher", "pytorch", "--no-validate", "--seed", "3"}, small(3));
  Processes procs;
  int port = cppdet::testing::free_tcp_port();
  std::vector<pid_t> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(procs.start(args, rank_env(r, 2, port), path("killed_r" + std::to_string(r) + ".out")));
  // Wait (hang guard) until epoch_1.pth exists and an iteration of epoch 2 is logged.
  bool in_epoch_2 = false;
  for (int i = 0; i < 20000 && !in_epoch_2; ++i) {
    ASSERT_TRUE(procs.running(ranks[0]) && procs.running(ranks[1])) << read_text(path("killed_r0.out"));
    if (fs::exists(work + "/epoch_1.pth"))
      for (const std::string& log : json_logs(work))
        for (const Json& r : log_records(log)) in_epoch_2 = in_epoch_2 || (r["mode"] == "train" && r["epoch"] == 2);
    if (!in_epoch_2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(in_epoch_2) << read_text(path("killed_r0.out"));
  ASSERT_EQ(::kill(ranks[1], SIGKILL), 0);
  EXPECT_EQ(procs.wait(ranks[1]), 128 + SIGKILL);
  const int survivor = procs.wait(ranks[0]);
  const std::string out0 = read_text(path("killed_r0.out"));
  EXPECT_NE(survivor, 0) << out0;
  EXPECT_NE(survivor, -1) << "rank 0 hung after rank 1 was killed:\n" << out0;
  EXPECT_NE(out0.find("lost rank 1"), std::string::npos) << out0;
  int killed_in = 1;
  while (fs::exists(work + "/epoch_" + std::to_string(killed_in) + ".pth")) ++killed_in;
  ASSERT_LE(killed_in, 3) << "training finished before the kill";

  // The same command with --auto-resume (and no --seed: the checkpoint's) finishes the plan.
  std::vector<std::string> resume_args = args;
  resume_args.erase(std::find(resume_args.begin(), resume_args.end(), "--seed"),
                    std::find(resume_args.begin(), resume_args.end(), "--seed") + 2);
  resume_args.push_back("--auto-resume");
  port = cppdet::testing::free_tcp_port();
  for (int r = 0; r < 2; ++r)
    ranks[r] = procs.start(resume_args, rank_env(r, 2, port), path("resumed_r" + std::to_string(r) + ".out"));
  for (int r = 0; r < 2; ++r)
    ASSERT_EQ(procs.wait(ranks[r]), 0) << read_text(path("resumed_r" + std::to_string(r) + ".out"));
  const std::string resumed = read_text(path("resumed_r0.out"));
  EXPECT_NE(resumed.find("resumed epoch " + std::to_string(killed_in - 1)), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("Set random seed to 3,"), std::string::npos) << resumed;
  const std::vector<std::string> logs = json_logs(work);
  ASSERT_EQ(logs.size(), 2u);
  // Completed epochs: 1..k-1 in the first log, k..3 in the second; none lost, none repeated.
  const auto complete = [](const std::string& log) {
    std::map<int, std::set<int>> iters;
    for (const Json& r : log_records(log))
      if (r["mode"] == "train") iters[r["epoch"].get<int>()].insert(r["iter"].get<int>());
    std::set<int> done;
    for (const auto& [epoch, its] : iters)
      if (its.size() == 4) done.insert(epoch);
    return done;
  };
  std::set<int> first, second;
  for (int e = 1; e < killed_in; ++e) first.insert(e);
  for (int e = killed_in; e <= 3; ++e) second.insert(e);
  EXPECT_EQ(complete(logs[0]), first);
  EXPECT_EQ(complete(logs[1]), second);
  for (int e = 1; e <= 3; ++e) EXPECT_TRUE(fs::exists(work + "/epoch_" + std::to_string(e) + ".pth")) << e;
}

TEST_F(Distributed, BusyPortUnreachableMasterAndMismatchedWorldSizesAreClearErrors) {
  const std::vector<std::string> args = concat({"train-step", config(), "--launcher", "pytorch"},
                                               small(1, {"dist_params.timeout=5"}));
  Processes procs;
  // A port another program listens on (every interface, as the rendezvous store would).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int busy_port = ntohs(addr.sin_port);
  const pid_t busy = procs.start(args, rank_env(0, 2, busy_port), path("busy.out"));
  // Rank 1 alone: nobody hosts the store.
  const pid_t lonely = procs.start(args, rank_env(1, 2, cppdet::testing::free_tcp_port()), path("lonely.out"));
  // Rank 0 says 2 processes, rank 1 says 3.
  const int port = cppdet::testing::free_tcp_port();
  const pid_t m0 = procs.start(args, rank_env(0, 2, port), path("mismatch0.out"));
  const pid_t m1 = procs.start(args, rank_env(1, 3, port), path("mismatch1.out"));

  EXPECT_NE(procs.wait(busy), 0);
  ::close(fd);
  EXPECT_NE(read_text(path("busy.out")).find("MASTER_PORT=" + std::to_string(busy_port) + " is already in use"),
            std::string::npos)
      << read_text(path("busy.out"));
  EXPECT_NE(procs.wait(lonely), 0);
  EXPECT_NE(read_text(path("lonely.out")).find("rank 1 cannot reach the master's rendezvous store at 127.0.0.1:"),
            std::string::npos)
      << read_text(path("lonely.out"));
  EXPECT_NE(procs.wait(m0), 0);
  EXPECT_NE(procs.wait(m1), 0);
  EXPECT_NE(read_text(path("mismatch0.out")).find("mismatched world sizes: rank 1 was started with WORLD_SIZE=3"),
            std::string::npos)
      << read_text(path("mismatch0.out"));
  EXPECT_NE(read_text(path("mismatch1.out")).find("mismatched world sizes: this process (RANK 1) has WORLD_SIZE=3"),
            std::string::npos)
      << read_text(path("mismatch1.out"));
}

// A stand-in for Slurm's srun: records its arguments, then runs --ntasks copies of the command
// with the variables srun sets (node list: this machine).
constexpr const char* kFakeSrun = R"(#!/usr/bin/env bash
echo "$@" > "$SRUN_RECORD"
ntasks=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --ntasks=*) ntasks=${1#--ntasks=}; shift ;;
    -p) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks SLURM_NODELIST=127.0.0.1 "$@" > "$SRUN_RECORD.$i" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
exit $status
)";

TEST_F(Distributed, SlurmTrainRunsWithSlurmsVariables) {
  const std::string bin = path("fake_slurm");
  fs::create_directories(bin);
  std::ofstream(bin + "/srun") << kFakeSrun;
  fs::permissions(bin + "/srun", fs::perms::owner_all);
  const std::string work = path("slurm_work");
  std::string args;
  for (const std::string& a : concat({"--no-validate"}, small(1, {"data.samples_per_gpu=4"}))) args += " " + shell_quote(a);
  const auto r = run_command("PATH=" + shell_quote(bin) + ":$PATH SRUN_RECORD=" + shell_quote(path("srun.args")) +
                             " GPUS=2 GPUS_PER_NODE=2 MASTER_PORT=" + std::to_string(cppdet::testing::free_tcp_port()) +
                             " CPPDET_NUM_THREADS=1 CPPDET=" + shell_quote(cppdet::testing::cppdet_exe()) + " bash " +
                             shell_quote(cppdet::testing::source_dir() + "/scripts/slurm_train.sh") +
                             " cpu_part quick " + shell_quote(config()) + " " + shell_quote(work) + args);
  ASSERT_EQ(r.exit_code, 0) << r.output << read_text(path("srun.args.0")) << read_text(path("srun.args.1"));
  const std::string srun_args = read_text(path("srun.args"));
  EXPECT_EQ(srun_args.rfind("-p cpu_part --job-name=quick --gres=gpu:2 --ntasks=2 --ntasks-per-node=2 --cpus-per-task=5 "
                            "--kill-on-bad-exit=1 ",
                            0),
            0u)
      << srun_args;
  EXPECT_NE(srun_args.find("--launcher=slurm"), std::string::npos) << srun_args;
  EXPECT_NE(read_text(path("srun.args.0")).find("Distributed training: True"), std::string::npos)
      << read_text(path("srun.args.0"));
  EXPECT_TRUE(fs::exists(work + "/epoch_1.pth"));
  EXPECT_EQ(json_logs(work).size(), 1u);
}

}  // namespace
}  // namespace cppdet
