// Training speed of cppdet, measured in one invocation:
//
//   build/bench/bench_train_step [--what step,loader] [--threads N] [--iters K] [--warmup W]
//                                [--python /usr/bin/python3] [--source-dir .] [--profile]
//                                [--loader-data ../shared/data/balloon] [--loader-images N]
//
// Run from the repository root (or pass --source-dir): it reads configs/ and bench/.
//
// step: one training iteration — forward with losses, backward, SGD step — of Faster R-CNN
//   R50-FPN on a batch of 2 images of 800x1216 with 5 ground-truth boxes each, against
//   torchvision 0.14's fasterrcnn_resnet50_fpn (bench/torchvision_train_peer.py). Each side runs
//   in a fresh process with the same thread count; medians over K iterations after W warm-up
//   ones, wall and process CPU time, and each process's peak RSS.
//   cppdet: configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py (MMDetection's; random weights
//   as `cppdet train` initialises them, frozen stem + layer1, BN in eval mode, SGD momentum 0.9,
//   weight decay 1e-4). torchvision: the same network as torchvision builds it for training
//   from ImageNet weights (FrozenBatchNorm2d, trainable_backbone_layers=3; the last norm of each
//   residual block zeroed as mmdet's zero_init_residual does), 81 classes, 1000
//   post-NMS training proposals (mmdet's rpn_proposal.max_per_img). lr 0.0025 on both sides
//   (the linear scaling rule for 2 images) so that random weights give finite losses.
//   --profile adds the ten aten operators with the largest self time on each side (cppdet:
//   at::RecordFunction callbacks; torchvision: torch.autograd.profiler), over one iteration.
//
// loader: images per second through the full training pipeline of
//   configs/balloon/mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_balloon.py (LoadImageFromFile,
//   LoadAnnotations with polygons, multi-scale Resize, RandomFlip, Normalize, Pad,
//   DefaultFormatBundle, Collect, batch collation) over the shipped balloon images (61
//   photos, mostly 1024x768 to 2048x1536 JPEGs), with workers_per_gpu = 0 and 2, each in a
//   fresh process after an untimed pass that warms the file cache.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "cppdet/config/config_file.h"
#include "cppdet/data/converters/via_to_coco.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/loader/data_loader.h"
#include "cppdet/data/samplers/group_sampler.h"
#include "cppdet/engine/optimizer.h"
#include "cppdet/engine/train_step.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/init/init_weights.h"

namespace {

using cppdet::bench::median;
using cppdet::bench::now_ms;
using cppdet::bench::OpProfile;
using cppdet::bench::peak_rss_kib;
using cppdet::bench::process_cpu_ms;
using cppdet::bench::run_json;

using nlohmann::json;
namespace fs = std::filesystem;

struct Args {
  std::vector<std::string> what{"step", "loader"};
  int threads = 2;
  int iters = 3;
  int warmup = 1;
  bool profile = false;
  std::string python = "/usr/bin/python3";
  std::string source_dir = ".";
  std::string loader_data = "../shared/data/balloon";
  int loader_images = 0;  // 0: all
  std::string worker;      // internal: "step", or "loader:<workers>"
  std::string loader_ann;  // internal: the converted annotation file
};

constexpr double kLr = 0.0025;
constexpr int64_t kHeight = 800, kWidth = 1216, kBatch = 2;

// Ground truth shared with torchvision_train_peer.py: x1, y1, x2, y2 in 1216x800 pixels;
// image 1 has the boxes of image 0 shifted right by 40 px. mmdet labels (0-based).
const std::vector<std::array<float, 4>> kBoxes = {
    {100, 120, 400, 500}, {600, 80, 900, 300}, {300, 400, 700, 780}, {850, 450, 1150, 760}, {50, 600, 250, 790}};
const std::vector<int64_t> kLabels = {0, 2, 15, 40, 79};

// --- the cppdet training step ---

int run_step_worker(const Args& args) {
  at::set_num_threads(args.threads);
  const cppdet::config::Value cfg = cppdet::config::load_config(
      args.source_dir + "/configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py", {"optimizer.lr=" + std::to_string(kLr)});
  torch::manual_seed(0);
  const cppdet::config::Value& model_cfg = cfg.as_dict().at("model");
  std::shared_ptr<cppdet::models::Detector> model = cppdet::models::build_detector(model_cfg);
  cppdet::models::init_weights(*model, model_cfg);
  model->train();
  cppdet::engine::Optimizer optimizer(*model, cppdet::engine::optimizer_from_config(cfg.as_dict().at("optimizer")));

  cppdet::DetBatch batch;
  batch.img = torch::randn({kBatch, 3, kHeight, kWidth});
  for (int64_t i = 0; i < kBatch; ++i) {
    cppdet::ImageMeta meta;
    meta.ori_shape = meta.img_shape = meta.pad_shape = {kHeight, kWidth, 3};
    batch.metas.push_back(meta);
    cppdet::GtInstances gt;
    gt.bboxes = torch::empty({static_cast<int64_t>(kBoxes.size()), 4});
    for (size_t b = 0; b < kBoxes.size(); ++b)
      for (int c = 0; c < 4; ++c) gt.bboxes[b][c] = kBoxes[b][c] + (c % 2 == 0 ? 40.0f * i : 0.0f);
    gt.labels = torch::tensor(kLabels, torch::kInt64);
    gt.bboxes_ignore = torch::empty({0, 4});
    batch.gts.push_back(gt);
  }

  double loss = 0;
  auto step = [&](std::vector<double>* phases) {
    const double t0 = now_ms();
    const cppdet::engine::StepOutputs out = cppdet::engine::parse_losses(model->forward_train(batch), kBatch);
    const double t1 = now_ms();
    optimizer.zero_grad();
    out.loss.backward();
    const double t2 = now_ms();
    optimizer.step();
    const double t3 = now_ms();
    loss = out.log_vars.back().second;
    if (phases) *phases = {t1 - t0, t2 - t1, t3 - t2};
  };

  json out;
  out["framework"] = "cppdet";
  out["threads"] = args.threads;
  out["input_shape"] = batch.img.sizes().vec();
  for (int i = 0; i < args.warmup; ++i) step(nullptr);
  std::vector<double> wall, cpu, forward, backward, sgd;
  for (int i = 0; i < args.iters; ++i) {
    std::vector<double> phases;
    const double c0 = process_cpu_ms(), w0 = now_ms();
    step(&phases);
    wall.push_back(now_ms() - w0);
    cpu.push_back(process_cpu_ms() - c0);
    forward.push_back(phases[0]);
    backward.push_back(phases[1]);
    sgd.push_back(phases[2]);
  }
  out["step_ms"] = wall;
  out["step_median_ms"] = median(wall);
  out["step_cpu_median_ms"] = median(cpu);
  out["forward_median_ms"] = median(forward);
  out["backward_median_ms"] = median(backward);
  out["optimizer_median_ms"] = median(sgd);
  out["last_loss"] = loss;
  if (args.profile) {
    out["top_ops"] = OpProfile::top_ops([&] { step(nullptr); }, 10);
  }
  out["peak_rss_kib"] = peak_rss_kib();
  std::cout << out.dump() << std::endl;
  return 0;
}

// --- data loading ---

std::string convert_balloon(const Args& args) {
  cppdet::data::converters::ViaToCocoOptions o;
  o.via_json = args.loader_data + "/train/via_region_data.json";
  o.image_dir = args.loader_data + "/train";
  o.num_threads = args.threads;
  const std::string path = (fs::temp_directory_path() / ("bench_balloon_train_" + std::to_string(::getpid()) + ".json")).string();
  cppdet::data::converters::write_json_file(path, cppdet::data::converters::via_to_coco(o));
  return path;
}

int run_loader_worker(const Args& args, int64_t workers) {
  at::set_num_threads(args.threads);
  const cppdet::config::Value cfg = cppdet::config::load_config(
      args.source_dir + "/configs/balloon/mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_balloon.py",
      {"data.train.ann_file=" + args.loader_ann, "data.train.img_prefix=" + args.loader_data + "/train/"});
  const cppdet::config::Value& data_cfg = cfg.as_dict().at("data");
  const cppdet::data::TrainDataset train = cppdet::data::build_train_dataset(data_cfg.as_dict().at("train"));
  const int64_t spg = data_cfg.as_dict().at("samples_per_gpu").as_int();
  const size_t n = args.loader_images > 0 ? std::min<size_t>(args.loader_images, train.dataset->size()) : train.dataset->size();
  std::vector<uint8_t> flags(n);
  for (size_t i = 0; i < n; ++i) flags[i] = train.dataset->group_flag(i);
  // The first n images (GroupSampler over all of them would index beyond n).
  struct Prefix : cppdet::data::IndexedDataset {
    std::shared_ptr<const cppdet::data::IndexedDataset> inner;
    size_t n;
    size_t size() const override { return n; }
    cppdet::data::Sample get(size_t i, uint64_t seed) const override { return inner->get(i, seed); }
    uint8_t group_flag(size_t i) const override { return inner->group_flag(i); }
  };
  auto prefix = std::make_shared<Prefix>();
  prefix->inner = train.dataset;
  prefix->n = n;
  auto sampler = std::make_shared<cppdet::data::GroupSampler>(flags, spg, 0);
  cppdet::data::DataLoaderOptions lo;
  lo.samples_per_gpu = spg;
  lo.workers_per_gpu = workers;
  cppdet::data::DataLoader loader(prefix, sampler, lo);

  auto pass = [&](int64_t epoch) {
    int64_t images = 0;
    auto it = loader.epoch(epoch);
    while (std::optional<cppdet::DetBatch> batch = it->next()) images += batch->img.size(0);
    return images;
  };
  pass(0);  // warms the file cache and the allocator
  const double c0 = process_cpu_ms(), w0 = now_ms();
  const int64_t images = pass(1);
  const double wall = now_ms() - w0, cpu = process_cpu_ms() - c0;
  json out;
  out["workers"] = workers;
  out["samples_per_gpu"] = spg;
  out["images"] = images;
  out["wall_ms"] = wall;
  out["cpu_ms"] = cpu;
  out["images_per_s"] = images / (wall / 1000.0);
  out["peak_rss_kib"] = peak_rss_kib();
  std::cout << out.dump() << std::endl;
  return 0;
}

void print_row(const char* what, const json& c, const json& t, const char* key) {
  const double cm = c[key].get<double>(), tm = t[key].get<double>();
  std::printf("  %-22s cppdet %9.1f ms   torchvision %9.1f ms   ratio %.3f\n", what, cm, tm, cm / tm);
}

void print_ops(const char* side, const json& ops) {
  std::printf("  top operators by self time, %s (one iteration):\n", side);
  for (const json& op : ops)
    std::printf("    %9.1f ms %6lld calls  %s\n", op["self_ms"].get<double>(), op["calls"].get<long long>(),
                op["name"].get<std::string>().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"one Faster R-CNN training step and the train data loader, cppdet against torchvision"};
  app.add_option("--what", args.what, "step and/or loader")->delimiter(',')->capture_default_str();
  app.add_option("--threads", args.threads, "intra-op threads")->capture_default_str();
  app.add_option("--iters", args.iters, "timed iterations")->capture_default_str();
  app.add_option("--warmup", args.warmup, "untimed iterations first")->capture_default_str();
  app.add_flag("--profile", args.profile, "print the slowest operators of both sides");
  app.add_option("--python", args.python, "Python with torchvision, for the peer")->capture_default_str();
  app.add_option("--source-dir", args.source_dir, "the repository root (bench/)")->capture_default_str();
  app.add_option("--loader-data", args.loader_data, "balloon dataset folder for the loader")->capture_default_str();
  app.add_option("--loader-images", args.loader_images, "images through the loader (0: all)")->capture_default_str();
  app.add_option("--worker", args.worker, "internal: \"step\" or \"loader:<workers>\"")->group("");
  app.add_option("--loader-ann", args.loader_ann, "internal: the converted annotation file")->group("");
  CLI11_PARSE(app, argc, argv);
  if (args.worker == "step") return run_step_worker(args);
  if (args.worker.rfind("loader:", 0) == 0) return run_loader_worker(args, std::stoll(args.worker.substr(7)));

  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::vector<std::string> common = {"--threads", std::to_string(args.threads), "--iters", std::to_string(args.iters),
                                           "--warmup", std::to_string(args.warmup)};
  for (const std::string& what : args.what) {
    if (what == "step") {
      std::printf("training step, Faster R-CNN R50-FPN, batch %lld x 3 x %lld x %lld, %d thread(s), median of %d "
                  "iteration(s) after %d warm-up\n",
                  static_cast<long long>(kBatch), static_cast<long long>(kHeight), static_cast<long long>(kWidth),
                  args.threads, args.iters, args.warmup);
      std::fflush(stdout);
      std::vector<std::string> cpp_argv = {self, "--worker", "step", "--source-dir", args.source_dir};
      std::vector<std::string> py_argv = {args.python, args.source_dir + "/bench/torchvision_train_peer.py"};
      cpp_argv.insert(cpp_argv.end(), common.begin(), common.end());
      py_argv.insert(py_argv.end(), common.begin(), common.end());
      if (args.profile) {
        cpp_argv.push_back("--profile");
        py_argv.push_back("--profile");
      }
      const json c = run_json(cpp_argv);
      const json t = run_json(py_argv);
      std::printf("  input %s (cppdet) / %s (torchvision), last loss %.3f / %.3f\n", c["input_shape"].dump().c_str(),
                  t["input_shape"].dump().c_str(), c["last_loss"].get<double>(), t["last_loss"].get<double>());
      print_row("step median", c, t, "step_median_ms");
      print_row("step median CPU", c, t, "step_cpu_median_ms");
      print_row("  forward + losses", c, t, "forward_median_ms");
      print_row("  backward", c, t, "backward_median_ms");
      print_row("  SGD step", c, t, "optimizer_median_ms");
      std::printf("  %-22s cppdet %9.0f MiB  torchvision %9.0f MiB  ratio %.3f\n", "peak RSS",
                  c["peak_rss_kib"].get<double>() / 1024, t["peak_rss_kib"].get<double>() / 1024,
                  c["peak_rss_kib"].get<double>() / t["peak_rss_kib"].get<double>());
      if (args.profile) {
        print_ops("cppdet", c["top_ops"]);
        print_ops("torchvision", t["top_ops"]);
      }
    } else if (what == "loader") {
      args.loader_ann = convert_balloon(args);
      std::printf("data loading, balloon mstrain-poly train pipeline (%s), images/s over one epoch after a warm-up pass\n",
                  args.loader_data.c_str());
      std::fflush(stdout);
      for (int workers : {0, 2}) {
        const json r = run_json({self, "--worker", "loader:" + std::to_string(workers), "--source-dir", args.source_dir,
                                 "--threads", std::to_string(args.threads), "--loader-data", args.loader_data,
                                 "--loader-images", std::to_string(args.loader_images), "--loader-ann", args.loader_ann});
        std::printf("  workers_per_gpu=%d: %lld images in %.0f ms = %.2f images/s (CPU %.0f ms, peak RSS %.0f MiB)\n",
                    workers, r["images"].get<long long>(), r["wall_ms"].get<double>(), r["images_per_s"].get<double>(),
                    r["cpu_ms"].get<double>(), r["peak_rss_kib"].get<double>() / 1024);
        std::fflush(stdout);
      }
      fs::remove(args.loader_ann);
    } else {
      std::cerr << "bench_train_step: --what takes step and/or loader, got '" << what << "'\n";
      return 2;
    }
    std::fflush(stdout);
  }
  return 0;
}
