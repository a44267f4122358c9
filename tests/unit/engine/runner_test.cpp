// The runner end to end on a toy linear regression: work-dir files, text / JSON log format,
// checkpoints (read back by cppdet and by Python's torch.load), resume, NaN stop, the
// iteration-based runner, and — in child processes — kill -9 and Ctrl-C followed by
// --auto-resume.
#include "cppdet/engine/runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "cppdet/core/atomic_file.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/engine/hooks/text_logger_hook.h"
#include "cppdet/engine/train.h"
#include "support/test_support.h"
#include "python_torch.h"
#include "toy_training.h"

extern char** environ;

namespace fs = std::filesystem;

namespace cppdet::engine {
namespace {

using testing::dict;
using testing::list;
using testing::ToyDataset;
using testing::ToyNet;

constexpr const char* kStamp = "20240101_000000";

// Mean squared error over the toy dataset, reported as mmdet-like metrics.
EvalFn toy_eval(ToyNet net) {
  return [net](const config::Dict&) mutable {
    ToyDataset ds;
    double se = 0;
    for (size_t i = 0; i < ds.size(); ++i) {
      data::Sample s = ds.get(i, 0);
      const double pred = net->fc(s.inputs.view({1, 3})).item<double>();
      const double y = s.gt_bboxes[0][0].item<double>();
      se += (pred - y) * (pred - y);
    }
    EvalResults r;
    const double score = 1.0 / (1.0 + se / static_cast<double>(ds.size()));
    r.metrics.set("bbox_mAP", score);
    r.metrics.set("bbox_mAP_copypaste", std::to_string(score).substr(0, 5) + " -1.000");
    r.num_iters = static_cast<int64_t>(ds.size());
    return r;
  };
}

struct ToyRun {
  ToyNet net{nullptr};
  RunStatus status = RunStatus::Completed;
};

ToyRun run_toy(const std::string& work_dir, const config::Value& cfg, TrainOptions options = {},
               std::function<bool(int64_t)> on_call = {}) {
  torch::manual_seed(0);
  ToyRun run;
  run.net = ToyNet();
  TrainInputs in;
  in.model = run.net.ptr();
  in.forward_train = testing::toy_forward(run.net, on_call);
  in.train_dataset = std::make_shared<ToyDataset>();
  in.classes = {"toy"};
  in.evaluate = toy_eval(run.net);
  options.work_dir = work_dir;
  options.timestamp = kStamp;
  options.log_to_stdout = false;
  options.config_name = "toy.py";
  options.config_text = "x = 1\n";
  run.status = train_detector(cfg, in, options);
  return run;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

torch::Tensor checkpoint_tensor(const std::string& path, const std::string& name) {
  for (const auto& [k, t] : io::read_checkpoint(path).state_dict)
    if (k == name) return t;
  return {};
}

TEST(Runner, WritesMmdetWorkDirAndLogs) {
  const std::string dir = cppdet::testing::make_temp_dir("engine-run");
  const ToyRun run = run_toy(dir, testing::toy_config());
  EXPECT_EQ(run.status, RunStatus::Completed);

  for (const char* f : {"toy.py", "20240101_000000.log", "20240101_000000.log.json", "epoch_1.pth", "epoch_2.pth",
                        "epoch_3.pth", "latest.pth"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  ASSERT_TRUE(fs::is_symlink(fs::path(dir) / "latest.pth"));
  EXPECT_EQ(fs::read_symlink(fs::path(dir) / "latest.pth").string(), "epoch_3.pth");
  int best_files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    best_files += name.rfind("best_bbox_mAP_epoch_", 0) == 0;
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
  }
  EXPECT_EQ(best_files, 1);

  // Text log: "Epoch [e][i/6]\tlr: ..., eta: ..., time: ..., data_time: ..., memory: 0, loss_a: ..."
  const std::regex train_line(
      R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - cppdet - INFO - Epoch \[(\d)\]\[(\d)/6\]\tlr: \d\.\d{3}e-\d\d, eta: \d+:\d\d:\d\d, time: \d+\.\d{3}, data_time: \d+\.\d{3}, memory: 0, loss_a: \d+\.\d{4}, loss_b: \d+\.\d{4}, acc: \d+\.\d{4}, loss: \d+\.\d{4}$)");
  const std::regex val_line(R"( - cppdet - INFO - Epoch\(val\) \[(\d)\]\[11\]\tbbox_mAP: 0\.\d{4}, bbox_mAP_copypaste: \S+ -1\.000$)");
  std::vector<std::string> train_positions;
  int val_lines = 0;
  bool hook_table = false;
  for (const std::string& line : read_lines(fs::path(dir) / "20240101_000000.log")) {
    std::smatch m;
    if (std::regex_match(line, m, train_line)) train_positions.push_back(m[1].str() + "/" + m[2].str());
    if (std::regex_search(line, val_line)) ++val_lines;
    hook_table = hook_table || line.find("Hooks will be executed in the following order:") != std::string::npos;
  }
  EXPECT_EQ(train_positions, (std::vector<std::string>{"1/2", "1/4", "1/6", "2/2", "2/4", "2/6", "3/2", "3/4", "3/6"}));
  EXPECT_EQ(val_lines, 3);
  EXPECT_TRUE(hook_table);

  // JSON log.
  const auto lines = read_lines(fs::path(dir) / "20240101_000000.log.json");
  ASSERT_EQ(lines.size(), 1u + 9u + 3u);
  const auto meta = nlohmann::ordered_json::parse(lines[0]);
  std::vector<std::string> meta_keys;
  for (auto it = meta.begin(); it != meta.end(); ++it) meta_keys.push_back(it.key());
  EXPECT_EQ(meta_keys, (std::vector<std::string>{"env_info", "config", "seed", "exp_name"}));
  EXPECT_EQ(meta["exp_name"], "toy.py");
  const auto first = nlohmann::ordered_json::parse(lines[1]);
  std::vector<std::string> keys;
  for (auto it = first.begin(); it != first.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"mode", "epoch", "iter", "lr", "memory", "data_time", "loss_a", "loss_b", "acc",
                                            "loss", "time"}));
  EXPECT_EQ(first["mode"], "train");
  EXPECT_EQ(first["epoch"], 1);
  EXPECT_EQ(first["iter"], 2);
  // Logged at iteration index 1: linear warmup 0.05 * (1 - (1 - 1/4) * 0.9) = 0.01625.
  EXPECT_EQ(first["lr"].get<double>(), 0.01625);
  EXPECT_NEAR(first["loss"].get<double>(), first["loss_a"].get<double>() + first["loss_b"].get<double>(), 2e-5);
  EXPECT_NE(lines[1].find("{\"mode\": \"train\", \"epoch\": 1, \"iter\": 2, \"lr\": 0.01625, \"memory\": 0, "),
            std::string::npos)
      << lines[1];
  const auto val = nlohmann::ordered_json::parse(lines[4]);
  EXPECT_EQ(val["mode"], "val");
  EXPECT_EQ(val["iter"], 11);
  EXPECT_TRUE(val.contains("bbox_mAP"));
  const auto last = nlohmann::ordered_json::parse(lines[12 - 1]);
  EXPECT_EQ(last["epoch"], 3);
  EXPECT_DOUBLE_EQ(last["lr"].get<double>(), 0.005);  // step at epoch 2

  // Checkpoint content.
  const io::Checkpoint ck = io::read_checkpoint((fs::path(dir) / "epoch_3.pth").string());
  const config::Dict& m = ck.meta.as_dict();
  EXPECT_EQ(m.at("epoch").as_int(), 3);
  EXPECT_EQ(m.at("iter").as_int(), 18);
  EXPECT_EQ(m.at("CLASSES"), config::Value::tuple({config::Value("toy")}));
  EXPECT_EQ(m.at("exp_name").as_string(), "toy.py");
  EXPECT_EQ(m.at("config").as_string(), "x = 1\n");
  EXPECT_EQ(m.at("hook_msgs").as_dict().at("last_ckpt").as_string(), (fs::path(dir) / "epoch_2.pth").string());
  ASSERT_EQ(ck.state_dict.size(), 2u);
  EXPECT_EQ(ck.state_dict[0].first, "fc.weight");
  EXPECT_EQ(ck.state_dict[1].first, "fc.bias");
  EXPECT_TRUE(torch::equal(ck.state_dict[0].second, run.net->fc->weight.detach()));
  ASSERT_TRUE(ck.has_optimizer);
  EXPECT_DOUBLE_EQ(ck.optimizer.find(std::string("param_groups"))->as_sequence()[0].find(std::string("lr"))->as_float(), 0.005);
}

TEST(Runner, CheckpointsLoadInPythonTorch) {
  if (testing::python_with_torch().empty()) GTEST_SKIP() << "python3 with torch is not available";
  const std::string dir = cppdet::testing::make_temp_dir("engine-py");
  run_toy(dir, testing::toy_config(2));
  const std::string script =
      "import sys, torch\n"
      "for path in sys.argv[1:]:\n"
      "  ck = torch.load(path, map_location='cpu')\n"
      "  print(sorted(ck.keys()))\n"
      "  print(list(ck['state_dict'].keys()))\n"
      "  print(ck['meta']['epoch'], ck['meta']['iter'], ck['meta']['CLASSES'])\n"
      "  params = [torch.nn.Parameter(t.clone()) for t in ck['state_dict'].values()]\n"
      "  opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)\n"
      "  opt.load_state_dict(ck['optimizer'])\n"
      "  print(opt.param_groups[0]['lr'], opt.param_groups[0]['initial_lr'], len(opt.state))\n";
  const auto r = cppdet::testing::run_command(testing::python_with_torch() + " -c " + cppdet::testing::shell_quote(script) +
                                              " " + cppdet::testing::shell_quote((fs::path(dir) / "epoch_2.pth").string()) +
                                              " " + cppdet::testing::shell_quote((fs::path(dir) / "latest.pth").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string one = "['meta', 'optimizer', 'state_dict']\n['fc.weight', 'fc.bias']\n2 12 ('toy',)\n0.05 0.05 2\n";
  EXPECT_EQ(r.output, one + one);
}

TEST(Runner, ResumeFromEpoch1GivesTheSameWeights) {
  const std::string a = cppdet::testing::make_temp_dir("engine-a");
  const std::string b = cppdet::testing::make_temp_dir("engine-b");
  run_toy(a, testing::toy_config());
  fs::copy_file(fs::path(a) / "epoch_1.pth", fs::path(b) / "from_a.pth");
  TrainOptions opt;
  opt.resume_from = (fs::path(b) / "from_a.pth").string();
  run_toy(b, testing::toy_config(), opt);
  EXPECT_FALSE(fs::exists(fs::path(b) / "epoch_1.pth"));
  for (const char* name : {"fc.weight", "fc.bias"})
    EXPECT_TRUE(torch::equal(checkpoint_tensor((fs::path(a) / "epoch_3.pth").string(), name),
                             checkpoint_tensor((fs::path(b) / "epoch_3.pth").string(), name)))
        << name;
  bool resumed = false;
  for (const std::string& line : read_lines(fs::path(b) / "20240101_000000.log"))
    resumed = resumed || line.find("resumed epoch 1, iter 6") != std::string::npos;
  EXPECT_TRUE(resumed);
}

TEST(Runner, NonFiniteLossStopsNamingIterationAndTerm) {
  const std::string dir = cppdet::testing::make_temp_dir("engine-nan");
  try {
    run_toy(dir, testing::toy_config(), {}, [](int64_t k) { return k == 4; });
    FAIL() << "expected NonFiniteLossError";
  } catch (const NonFiniteLossError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("epoch 1, iter 5/6 (global iteration 5)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("loss_b = nan"), std::string::npos) << msg;
  }
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_NE(e.path().extension(), ".pth") << e.path();
  bool logged = false;
  for (const std::string& line : read_lines(fs::path(dir) / "20240101_000000.log"))
    logged = logged || (line.find(" - ERROR - non-finite loss") != std::string::npos);
  EXPECT_TRUE(logged);
}

TEST(Runner, MaxKeepCheckpointsRemovesOlderOnes) {
  const std::string dir = cppdet::testing::make_temp_dir("engine-keep");
  config::Value cfg = testing::toy_config();
  cfg.as_dict().set("checkpoint_config", dict({{"interval", 1}, {"max_keep_ckpts", 1}}));
  run_toy(dir, cfg);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "epoch_1.pth"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / "epoch_2.pth"));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "epoch_3.pth"));
}

TEST(Runner, Fp16OnTheCpuIsRefusedWithAMessage) {
  const std::string dir = cppdet::testing::make_temp_dir("engine-fp16");
  config::Value cfg = testing::toy_config();
  cfg.as_dict().set("fp16", dict({{"loss_scale", 512.0}}));
  const std::string message = cppdet::testing::user_error_of([&] { run_toy(dir, cfg); });
  EXPECT_NE(message.find("fp16: mixed-precision training needs a CUDA device"), std::string::npos) << message;
  EXPECT_NE(message.find("fp16=None"), std::string::npos) << message;
}

config::Value iter_config() {
  config::Value cfg = testing::toy_config();
  config::Dict& d = cfg.as_dict();
  d.set("runner", dict({{"type", "IterBasedRunner"}, {"max_iters", 8}}));
  d.set("lr_config", dict({{"policy", "CosineAnnealing"}, {"by_epoch", false}, {"min_lr", 1e-4}, {"warmup", "exp"},
                           {"warmup_iters", 3}, {"warmup_ratio", 0.1}}));
  d.set("checkpoint_config", dict({{"interval", 4}, {"by_epoch", false}}));
  d.set("evaluation", dict({{"interval", 4}}));
  return cfg;
}

TEST(Runner, IterBasedRunnerLogsIterationsAndResumes) {
  const std::string dir = cppdet::testing::make_temp_dir("engine-iter");
  run_toy(dir, iter_config());
  EXPECT_TRUE(fs::exists(fs::path(dir) / "iter_4.pth"));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "iter_8.pth"));
  EXPECT_EQ(fs::read_symlink(fs::path(dir) / "latest.pth").string(), "iter_8.pth");
  EXPECT_EQ(io::read_checkpoint((fs::path(dir) / "iter_8.pth").string()).meta.as_dict().at("iter").as_int(), 8);
  const std::regex iter_line(R"( - INFO - Iter \[(\d)/8\]\tlr: \d\.\d{3}e-\d\d, eta: )");
  const std::regex val_line(R"( - INFO - Iter\(val\) \[11\]\tbbox_mAP: )");
  std::string positions;
  int vals = 0;
  for (const std::string& line : read_lines(fs::path(dir) / "20240101_000000.log")) {
    std::smatch m;
    if (std::regex_search(line, m, iter_line)) positions += m[1].str();
    vals += std::regex_search(line, val_line);
  }
  EXPECT_EQ(positions, "2468");
  EXPECT_EQ(vals, 2);

  const std::string b = cppdet::testing::make_temp_dir("engine-iter-b");
  fs::copy_file(fs::path(dir) / "iter_4.pth", fs::path(b) / "iter_4.pth");
  TrainOptions opt;
  opt.auto_resume = true;  // no latest.pth: the largest iter_N.pth
  run_toy(b, iter_config(), opt);
  EXPECT_TRUE(torch::equal(checkpoint_tensor((fs::path(dir) / "iter_8.pth").string(), "fc.weight"),
                           checkpoint_tensor((fs::path(b) / "iter_8.pth").string(), "fc.weight")));
}

TEST(Runner, HooksRunInMmcvPriorityOrder) {
  torch::manual_seed(0);
  ToyNet net;
  auto opt = std::make_unique<Optimizer>(*net, optimizer_from_config(dict({{"type", "SGD"}, {"lr", 0.1}})));
  RunnerOptions ro;
  ro.max_epochs = 1;
  Runner runner(net.ptr(), testing::toy_forward(net), std::move(opt), std::make_shared<RunLogger>(false), ro);
  struct Named : Hook {
    Named(std::string n, Priority p) : n_(std::move(n)), p_(p) {}
    std::string name() const override { return n_; }
    Priority priority() const override { return p_; }
    std::string n_;
    Priority p_;
  };
  runner.register_hook(std::make_unique<Named>("Logger", Priority::VeryLow));
  runner.register_hook(std::make_unique<Named>("Lr", Priority::VeryHigh));
  runner.register_hook(std::make_unique<Named>("Checkpoint", Priority::Normal));
  runner.register_hook(std::make_unique<Named>("IterTimer", Priority::Low));
  runner.register_hook(std::make_unique<Named>("Optimizer", Priority::AboveNormal));
  runner.register_hook(std::make_unique<Named>("Eval", Priority::Low));
  std::vector<std::string> order;
  for (const auto& h : runner.hooks()) order.push_back(h->name());
  EXPECT_EQ(order, (std::vector<std::string>{"Lr", "Optimizer", "Checkpoint", "IterTimer", "Eval", "Logger"}));
}

// ---- child-process scenarios: kill -9 and Ctrl-C, then --auto-resume ----

// Run by the tests below in a separate process (the name keeps it out of normal runs):
// trains the toy in $CPPDET_TOY_WORKDIR with auto-resume; with $CPPDET_TOY_BLOCK_AT=k the k-th
// forward writes <dir>/blocked and waits for <dir>/release.
TEST(EngineChild, DISABLED_Train) {
  const char* dir = std::getenv("CPPDET_TOY_WORKDIR");
  ASSERT_NE(dir, nullptr);
  const char* block = std::getenv("CPPDET_TOY_BLOCK_AT");
  const int64_t block_at = block ? std::atoll(block) : -1;
  const std::string d = dir;
  TrainOptions opt;
  opt.auto_resume = true;
  const ToyRun run = run_toy(d, testing::toy_config(), opt, [&](int64_t k) {
    if (k == block_at) {
      std::ofstream(d + "/blocked") << "1";
      for (int i = 0; i < 6000 && !fs::exists(d + "/release"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  });
  std::ofstream(d + "/status") << (run.status == RunStatus::Completed ? "completed" : "interrupted");
}

pid_t spawn_child(const std::string& dir, int64_t block_at) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("CPPDET_TOY_WORKDIR=" + dir);
  if (block_at >= 0) env_strings.push_back("CPPDET_TOY_BLOCK_AT=" + std::to_string(block_at));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string a1 = "--gtest_also_run_disabled_tests", a2 = "--gtest_filter=EngineChild.DISABLED_Train";
  char* argv[] = {exe.data(), a1.data(), a2.data(), nullptr};
  posix_spawn_file_actions_t quiet;  // the child's gtest chatter goes to /dev/null
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), &quiet, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&quiet);
  return rc == 0 ? pid : -1;
}

// Waits (bounded, as a hang guard) until `file` exists; false if the child ended first.
bool wait_for_file(const std::string& file, pid_t child) {
  for (int i = 0; i < 6000; ++i) {
    if (fs::exists(file)) return true;
    int status;
    if (waitpid(child, &status, WNOHANG) == child) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int wait_child(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

using cppdet::testing::read_text;

std::vector<int> logged_epochs(const std::string& log) {
  std::vector<int> epochs;
  const std::regex re(R"( - INFO - Epoch \[(\d)\]\[6/6\])");
  for (const std::string& line : read_lines(log)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) epochs.push_back(std::stoi(m[1].str()));
  }
  return epochs;
}

TEST(Runner, KillDuringEpochThenAutoResumeFinishesThePlan) {
  const std::string ref = cppdet::testing::make_temp_dir("engine-ref");
  run_toy(ref, testing::toy_config());
  const std::string dir = cppdet::testing::make_temp_dir("engine-kill");

  const pid_t child = spawn_child(dir, /*block_at=*/6 + 2);  // 3rd batch of epoch 2
  ASSERT_GT(child, 0);
  ASSERT_TRUE(wait_for_file(dir + "/blocked", child)) << "the child did not reach epoch 2";
  ::kill(child, SIGKILL);
  const int status = wait_child(child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(fs::exists(dir + "/epoch_1.pth"));
  EXPECT_FALSE(fs::exists(dir + "/epoch_2.pth"));
  EXPECT_EQ(fs::read_symlink(dir + "/latest.pth").string(), "epoch_1.pth");
  fs::rename(dir + "/20240101_000000.log", dir + "/first_run.log");

  const pid_t again = spawn_child(dir, -1);
  ASSERT_GT(again, 0);
  const int status2 = wait_child(again);
  ASSERT_TRUE(WIFEXITED(status2) && WEXITSTATUS(status2) == 0) << read_text(dir + "/20240101_000000.log");
  EXPECT_EQ(read_text(dir + "/status"), "completed");
  EXPECT_EQ(fs::read_symlink(dir + "/latest.pth").string(), "epoch_3.pth");
  EXPECT_EQ(io::read_checkpoint(dir + "/epoch_3.pth").meta.as_dict().at("epoch").as_int(), 3);
  EXPECT_EQ(logged_epochs(dir + "/first_run.log"), (std::vector<int>{1}));
  EXPECT_EQ(logged_epochs(dir + "/20240101_000000.log"), (std::vector<int>{2, 3}));
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos);
  for (const char* name : {"fc.weight", "fc.bias"})
    EXPECT_TRUE(torch::equal(checkpoint_tensor(ref + "/epoch_3.pth", name), checkpoint_tensor(dir + "/epoch_3.pth", name)))
        << name;
}

TEST(Runner, CtrlCSavesTheIterationAndResumesInsideTheEpoch) {
  const std::string ref = cppdet::testing::make_temp_dir("engine-ref2");
  run_toy(ref, testing::toy_config());
  const std::string dir = cppdet::testing::make_temp_dir("engine-int");

  const pid_t child = spawn_child(dir, /*block_at=*/6 + 2);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(wait_for_file(dir + "/blocked", child)) << "the child did not reach epoch 2";
  ::kill(child, SIGINT);
  std::ofstream(dir + "/release") << "1";
  const int status = wait_child(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(read_text(dir + "/status"), "interrupted");
  EXPECT_EQ(fs::read_symlink(dir + "/latest.pth").string(), "interrupted.pth");
  const config::Dict meta = io::read_checkpoint(dir + "/interrupted.pth").meta.as_dict();
  EXPECT_EQ(meta.at("epoch").as_int(), 1);
  EXPECT_EQ(meta.at("iter").as_int(), 9);
  EXPECT_EQ(meta.at("inner_iter").as_int(), 3);
  fs::remove(dir + "/release");

  const pid_t again = spawn_child(dir, -1);
  ASSERT_GT(again, 0);
  const int status2 = wait_child(again);
  ASSERT_TRUE(WIFEXITED(status2) && WEXITSTATUS(status2) == 0);
  EXPECT_EQ(read_text(dir + "/status"), "completed");
  for (const char* name : {"fc.weight", "fc.bias"})
    EXPECT_TRUE(torch::equal(checkpoint_tensor(ref + "/epoch_3.pth", name), checkpoint_tensor(dir + "/epoch_3.pth", name)))
        << name;
}

TEST(TextLog, PythonFormats) {
  EXPECT_EQ(format_eta(12), "0:00:12");
  EXPECT_EQ(format_eta(86400 + 16 * 3600 + 24 * 60 + 41), "1 day, 16:24:41");
  EXPECT_EQ(format_eta(2 * 86400 + 5), "2 days, 0:00:05");
  EXPECT_EQ(json_rounded_float(0.0019980000000000002), "0.002");
  EXPECT_EQ(json_rounded_float(2.000000000000002e-05), "2e-05");
  EXPECT_EQ(json_rounded_float(1.0), "1.0");
  EXPECT_EQ(json_rounded_float(0.123456), "0.12346");
  EXPECT_EQ(json_rounded_float(12345.678901), "12345.6789");
}

}  // namespace
}  // namespace cppdet::engine
