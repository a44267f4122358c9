// `cppdet train` as a user runs it, on a tiny Faster R-CNN and a few 64x64 synthetic images
// (seconds per run): kill -9 during an epoch followed by --auto-resume, and the work dir's
// checkpoints read by Python's torch.load with the model's state_dict keys.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

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
using cppdet::testing::run_cppdet;
using cppdet::testing::shell_quote;

constexpr int kMaxEpochs = 3;
constexpr int kItersPerEpoch = 8;  // 16 images, 2 per batch
constexpr double kBaseLr = 0.01;
constexpr int kWarmupIters = 20;  // longer than an epoch: the resumed iteration is inside warmup
constexpr double kWarmupRatio = 0.001;

// A ResNet-18 (8 base channels) Faster R-CNN on 64x64 images; {root} = the data folder.
constexpr const char* kConfig = R"(
model = dict(
    type='FasterRCNN',
    backbone=dict(type='ResNet', depth=18, base_channels=8, num_stages=4, out_indices=(0, 1, 2, 3),
                  frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                  style='pytorch', init_cfg=None),
    neck=dict(type='FPN', in_channels=[8, 16, 32, 64], out_channels=16, num_outs=5),
    rpn_head=dict(
        type='RPNHead', in_channels=16, feat_channels=16,
        anchor_generator=dict(type='AnchorGenerator', scales=[4], ratios=[0.5, 1.0, 2.0],
                              strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                        target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(type='SingleRoIExtractor',
                                roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
                                out_channels=16, featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared2FCBBoxHead', in_channels=16, fc_out_channels=32, roi_feat_size=7,
            num_classes=4,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
                               match_low_quality=True, ignore_iof_thr=-1),
                 sampler=dict(type='RandomSampler', num=64, pos_fraction=0.5, neg_pos_ub=-1,
                              add_gt_as_proposals=False),
                 allowed_border=-1, pos_weight=-1, debug=False),
        rpn_proposal=dict(nms_pre=200, max_per_img=100, nms=dict(type='nms', iou_threshold=0.7),
                          min_bbox_size=0),
        rcnn=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5,
                                match_low_quality=True, ignore_iof_thr=-1),
                  sampler=dict(type='RandomSampler', num=32, pos_fraction=0.25, neg_pos_ub=-1,
                               add_gt_as_proposals=True),
                  pos_weight=-1, debug=False)),
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=100, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=20)))
classes = ('circle', 'triangle', 'rectangle', 'star')
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(64, 64), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=1,
    train=dict(type='CocoDataset', classes=classes, ann_file='{root}/annotations/instances_train.json',
               img_prefix='{root}/train/', pipeline=train_pipeline))
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
optimizer_config = dict(grad_clip=dict(max_norm=35, norm_type=2))
lr_config = dict(policy='step', warmup='linear', warmup_iters=20, warmup_ratio=0.001, step=[2])
runner = dict(type='EpochBasedRunner', max_epochs=3)
checkpoint_config = dict(interval=1)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
)";

// Reads a Python script that prints one JSON line about checkpoint argv[1]: its top-level keys,
// its state_dict (names, shapes, type), meta entries and the optimizer state's layout.
constexpr const char* kReadCheckpointPy = R"(
import json, sys, torch
ck = torch.load(sys.argv[1], map_location='cpu')
meta, opt = ck['meta'], ck['optimizer']
# The parameters in order (the optimizer numbers them so); the other entries are BN buffers.
buffers = ('running_mean', 'running_var', 'num_batches_tracked')
params = [v for k, v in ck['state_dict'].items() if not k.endswith(buffers)]
print(json.dumps({
    'keys': sorted(ck.keys()),
    'tensors': [{'name': k, 'shape': list(v.shape)} for k, v in ck['state_dict'].items()],
    'state_dict_type': type(ck['state_dict']).__name__,
    'meta': {k: meta[k] for k in ('epoch', 'iter', 'seed', 'exp_name')},
    'classes': list(meta['CLASSES']),
    'version': meta.get('cppdet_version', ''),
    'meta_keys': sorted(meta.keys()),
    'opt_keys': sorted(opt.keys()),
    'groups': len(opt['param_groups']),
    'group_keys': sorted(opt['param_groups'][0].keys()),
    'num_params': sum(len(g['params']) for g in opt['param_groups']),
    'num_model_params': len(params),
    'num_state': len(opt['state']),
    'momentum_shapes_match': all(
        list(opt['state'][i]['momentum_buffer'].shape) == list(params[i].shape) for i in opt['state'])}))
)";

// The shared data set and config (made once for the suite).
class TrainRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(make_temp_dir("train-run"));
    const auto r = run_cppdet("data synth-shapes " + shell_quote(*root_ + "/shapes") +
                              " --train 16 --val 1 --seed 3 --size 64x64");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string text = kConfig;
    for (size_t p; (p = text.find("{root}")) != std::string::npos;) text.replace(p, 6, *root_ + "/shapes");
    std::ofstream(*root_ + "/tiny_faster_rcnn.py") << text;
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  static std::string config() { return *root_ + "/tiny_faster_rcnn.py"; }
  static std::string path(const std::string& name) { return *root_ + "/" + name; }

  static std::string* root_;
};
std::string* TrainRun::root_ = nullptr;

// The tiny model trains fastest with one intra-op thread (no OpenMP spinning on a busy machine).
constexpr const char* kOneThread = "CPPDET_NUM_THREADS=1";

// `cppdet ARGS` with one thread.
cppdet::testing::CommandResult run_cppdet_1thread(const std::string& args) {
  return run_command(std::string(kOneThread) + " " + shell_quote(cppdet::testing::cppdet_exe()) + " " + args);
}

// Starts `cppdet train ARGS` (one thread) with stdout and stderr going to `log_file`; the pid, or -1.
pid_t spawn_train(const std::vector<std::string>& args, const std::string& log_file) {
  std::vector<std::string> argv_strings{cppdet::testing::cppdet_exe(), "train"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> env_strings{kOneThread};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("CPPDET_NUM_THREADS=", 0) != 0) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// The "train" records of a JSON log.
std::vector<Json> train_records(const std::string& log_json) {
  std::vector<Json> out;
  for (Json& j : log_records(log_json))
    if (j["mode"] == "train") out.push_back(std::move(j));
  return out;
}

// Epochs for which the records hold every iteration 1..kItersPerEpoch exactly once.
std::set<int> completed_epochs(const std::vector<Json>& records) {
  std::map<int, std::vector<int>> iters;
  for (const Json& r : records) iters[r["epoch"].get<int>()].push_back(r["iter"].get<int>());
  std::vector<int> all(kItersPerEpoch);
  for (int i = 0; i < kItersPerEpoch; ++i) all[i] = i + 1;
  std::set<int> done;
  for (auto& [epoch, list] : iters) {
    std::sort(list.begin(), list.end());
    if (list == all) done.insert(epoch);
  }
  return done;
}

// mmcv's lr for the config above at 0-based epoch `epoch` and 0-based global iteration `iter`:
// step at epoch 2, linear warmup over the first kWarmupIters iterations.
double scheduled_lr(int epoch, int iter) {
  const double regular = kBaseLr * (epoch >= 2 ? 0.1 : 1.0);
  if (iter >= kWarmupIters) return regular;
  return regular * (1.0 - (1.0 - static_cast<double>(iter) / kWarmupIters) * (1.0 - kWarmupRatio));
}

// `cppdet checkpoint inspect --json PATH`.
Json inspect_checkpoint(const std::string& path) {
  const auto r = run_cppdet("checkpoint inspect --json " + shell_quote(path));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const size_t start = r.output.find('{');
  return Json::parse(start == std::string::npos ? std::string() : r.output.substr(start), nullptr, false);
}

// {name: shape} of a tensor listing ({"tensors": [{"name", "shape"}]}).
std::map<std::string, std::vector<int64_t>> tensor_shapes(const Json& listing) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const Json& t : listing["tensors"]) out[t["name"].get<std::string>()] = t["shape"].get<std::vector<int64_t>>();
  return out;
}

TEST_F(TrainRun, KillDuringAnEpochThenAutoResumeFinishesThePlan) {
  const std::string work = path("kill");
  const pid_t child = spawn_train({config(), "--work-dir", work, "--no-validate", "--seed", "7"}, path("kill_run1.out"));
  ASSERT_GT(child, 0);

  // Wait (bounded: a hang guard, not a timing assertion) until epoch_1.pth exists and an
  // iteration of epoch 2 is logged, then kill -9.
  bool in_epoch_2 = false;
  for (int i = 0; i < 30000 && !in_epoch_2; ++i) {
    int status;
    ASSERT_NE(waitpid(child, &status, WNOHANG), child) << "training ended early:\n" << read_text(path("kill_run1.out"));
    if (fs::exists(work + "/epoch_1.pth"))
      for (const std::string& log : json_logs(work))
        for (const Json& r : train_records(log)) in_epoch_2 = in_epoch_2 || r["epoch"] == 2;
    if (!in_epoch_2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!in_epoch_2) ::kill(child, SIGKILL);
  ASSERT_TRUE(in_epoch_2) << "no epoch-2 iteration logged:\n" << read_text(path("kill_run1.out"));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  // The epoch the kill interrupted: the one after the newest epoch_N.pth (2, unless this
  // test was descheduled for a whole epoch).
  int killed_in = 1;
  while (fs::exists(work + "/epoch_" + std::to_string(killed_in) + ".pth")) ++killed_in;
  ASSERT_GE(killed_in, 2);
  ASSERT_LE(killed_in, kMaxEpochs) << "training finished before the kill";
  EXPECT_EQ(fs::read_symlink(work + "/latest.pth").string(), "epoch_" + std::to_string(killed_in - 1) + ".pth");
  // What a kill during a checkpoint write leaves behind: the temporary of a process that is gone.
  std::ofstream(work + "/epoch_" + std::to_string(killed_in) + ".pth.tmp." + std::to_string(child)) << "partial";

  // The same command plus --auto-resume, without --seed: the run keeps the checkpoint's seed.
  const auto resumed =
      run_cppdet_1thread("train " + shell_quote(config()) + " --work-dir " + shell_quote(work) + " --no-validate --auto-resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const std::string& out = resumed.output;
  EXPECT_NE(out.find("resume from " + work + "/latest.pth"), std::string::npos) << out;
  EXPECT_NE(out.find("Set random seed to 7,"), std::string::npos) << out;
  const int done_iters = (killed_in - 1) * kItersPerEpoch;
  EXPECT_NE(out.find("resumed epoch " + std::to_string(killed_in - 1) + ", iter " + std::to_string(done_iters) + "\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("an unfinished file of an earlier run"), std::string::npos) << out;

  // Every planned checkpoint exists, loads, and records the epoch / iteration it ends.
  for (int n = 1; n <= kMaxEpochs; ++n) {
    const std::string ckpt = work + "/epoch_" + std::to_string(n) + ".pth";
    ASSERT_TRUE(fs::is_regular_file(ckpt)) << ckpt;
    const Json ck = inspect_checkpoint(ckpt);
    EXPECT_EQ(ck["meta"]["epoch"], n) << ckpt;
    EXPECT_EQ(ck["meta"]["iter"], n * kItersPerEpoch) << ckpt;
    EXPECT_FALSE(ck["tensors"].empty()) << ckpt;
  }
  EXPECT_EQ(fs::read_symlink(work + "/latest.pth").string(), "epoch_" + std::to_string(kMaxEpochs) + ".pth");
  for (const auto& e : fs::directory_iterator(work))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();

  // Two runs, two logs; their completed epochs are 1..k-1 and k..max: none lost, none repeated.
  const std::vector<std::string> logs = json_logs(work);
  ASSERT_EQ(logs.size(), 2u);
  const std::vector<Json> first = train_records(logs[0]), second = train_records(logs[1]);
  std::set<int> expected_first, expected_second, second_epochs;
  for (int e = 1; e < killed_in; ++e) expected_first.insert(e);
  for (int e = killed_in; e <= kMaxEpochs; ++e) expected_second.insert(e);
  EXPECT_EQ(completed_epochs(first), expected_first);
  EXPECT_EQ(completed_epochs(second), expected_second);
  for (const Json& r : second) second_epochs.insert(r["epoch"].get<int>());
  EXPECT_EQ(second_epochs, expected_second) << "the resumed run logged an epoch it should not have";
  ASSERT_EQ(second.size(), static_cast<size_t>((kMaxEpochs - killed_in + 1) * kItersPerEpoch));

  // The schedule continues: every resumed iteration logs the lr of its global position (the
  // JSON log rounds to 5 decimals), and the first one repeats the killed run's lr there.
  EXPECT_EQ(second.front()["epoch"], killed_in);
  EXPECT_EQ(second.front()["iter"], 1);
  for (const Json& r : second) {
    const int epoch = r["epoch"].get<int>() - 1;
    const int iter = epoch * kItersPerEpoch + r["iter"].get<int>() - 1;
    EXPECT_NEAR(r["lr"].get<double>(), scheduled_lr(epoch, iter), 6e-6) << r.dump();
  }
  for (const Json& r : first) {
    if (r["epoch"] == killed_in && r["iter"] == 1) {
      EXPECT_EQ(r["lr"], second.front()["lr"]);
    }
  }
}

TEST_F(TrainRun, PythonTorchLoadsTheCheckpointWithTheModelsKeys) {
  const char* env_python = std::getenv("CPPDET_PYTHON");
  const std::string python = env_python && *env_python ? env_python : "/usr/bin/python3";
  if (run_command(shell_quote(python) + " -c 'import torch'").exit_code != 0)
    GTEST_SKIP() << python << " with torch is not available";
  const std::string work = path("python");
  const auto train = run_cppdet_1thread("train " + shell_quote(config()) + " --work-dir " + shell_quote(work) +
                                " --no-validate --seed 1 --cfg-options runner.max_epochs=1");
  ASSERT_EQ(train.exit_code, 0) << train.output;

  std::ofstream(path("read_checkpoint.py")) << kReadCheckpointPy;
  const auto py = run_command(shell_quote(python) + " " + shell_quote(path("read_checkpoint.py")) + " " +
                              shell_quote(work + "/epoch_1.pth") + " 2>/dev/null");
  ASSERT_EQ(py.exit_code, 0) << py.output;
  const Json got = Json::parse(py.output);

  // The state_dict of the model cppdet builds from the same config: same names, order, shapes.
  const auto model = run_cppdet("checkpoint model --json " + shell_quote(config()));
  ASSERT_EQ(model.exit_code, 0) << model.output;
  const Json model_tensors = Json::parse(model.output);
  EXPECT_EQ(tensor_shapes(got), tensor_shapes(model_tensors));
  std::vector<std::string> py_order, model_order;
  for (const Json& t : got["tensors"]) py_order.push_back(t["name"]);
  for (const Json& t : model_tensors["tensors"]) model_order.push_back(t["name"]);
  EXPECT_EQ(py_order, model_order);
  for (const char* key : {"backbone.conv1.weight", "backbone.bn1.running_var", "neck.fpn_convs.0.conv.weight",
                          "rpn_head.rpn_cls.weight", "roi_head.bbox_head.fc_cls.weight"})
    EXPECT_NE(std::find(py_order.begin(), py_order.end(), key), py_order.end()) << key;

  // mmcv's save_checkpoint layout: {meta, state_dict (an OrderedDict), optimizer}.
  EXPECT_EQ(got["keys"], Json::array({"meta", "optimizer", "state_dict"}));
  EXPECT_EQ(got["state_dict_type"], "OrderedDict");
  EXPECT_EQ(got["meta"]["epoch"], 1);
  EXPECT_EQ(got["meta"]["iter"], kItersPerEpoch);
  EXPECT_EQ(got["meta"]["seed"], 1);
  EXPECT_EQ(got["meta"]["exp_name"], "tiny_faster_rcnn.py");
  EXPECT_EQ(got["classes"], Json::array({"circle", "triangle", "rectangle", "star"}));
  EXPECT_FALSE(got["version"].get<std::string>().empty());
  for (const char* key : {"CLASSES", "config", "env_info", "epoch", "hook_msgs", "iter", "time"})
    EXPECT_NE(std::find(got["meta_keys"].begin(), got["meta_keys"].end(), key), got["meta_keys"].end()) << key;
  // torch.optim.SGD.state_dict(): one group listing every parameter, a momentum buffer of the
  // parameter's shape for each one that was trained.
  EXPECT_EQ(got["opt_keys"], Json::array({"param_groups", "state"}));
  EXPECT_EQ(got["groups"], 1);
  for (const char* key : {"lr", "momentum", "weight_decay", "initial_lr", "params"})
    EXPECT_NE(std::find(got["group_keys"].begin(), got["group_keys"].end(), key), got["group_keys"].end()) << key;
  EXPECT_EQ(got["num_params"], got["num_model_params"]);
  EXPECT_GT(got["num_state"].get<int>(), 0);
  EXPECT_LE(got["num_state"].get<int>(), got["num_params"].get<int>());
  EXPECT_EQ(got["momentum_shapes_match"], true);
}

}  // namespace
}  // namespace cppdet
