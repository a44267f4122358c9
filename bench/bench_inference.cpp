// Inference latency of cppdet against torchvision, measured in one invocation:
//
//   build/bench/bench_inference [--threads N] [--iters K] [--warmup W] [--image demo.jpg]
//                               [--models faster,mask,fcos] [--python /usr/bin/python3] [--source-dir .]
//
// Run from the repository root (or pass --source-dir): it reads configs/ and bench/.
//
// For Faster R-CNN, Mask R-CNN and FCOS R50-FPN (full size, MMDetection layout, random weights)
// it runs, each in a fresh process: cppdet (this executable re-run as a worker) and torchvision
// (bench/torchvision_peer.py: fasterrcnn_resnet50_fpn / maskrcnn_resnet50_fpn /
// fcos_resnet50_fpn, weights=None). Both see the same image (demo.jpg, 640x427 -> resized
// 1199x800, batch 1216x800), the same thread count and the same workload: the box classifier
// is set to predict "person" with probability ~0.65 and zero box deltas, so each image keeps
// 1000 proposals, 100 detections and (Mask R-CNN) 100 pasted masks; FCOS's classifier predicts
// "person" at every position (logit 5, the other classes -10) with boxes 2 strides wide, so both
// keep up to 1000 candidates per level for NMS and 100 detections. Prints per-model medians, the
// cppdet/torchvision ratio and each process's peak RSS; then the same against torchvision run
// with cppdet's allocator (TCMalloc) preloaded.
//
//   end-to-end: read + decode the file, preprocess, network, post-process (rescaled boxes,
//               masks pasted at the original size)
//   model-only: from the preprocessed batch to the same final result
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "cppdet/apis/inference.h"
#include "cppdet/config/config_file.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/models/detector.h"

namespace {

using cppdet::bench::median;
using cppdet::bench::peak_rss_kib;
using cppdet::bench::process_cpu_ms;
using cppdet::bench::run_json;

using nlohmann::json;

struct Args {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int iters = 5;
  int warmup = 1;
  std::string image = "../shared/data/mmdet_demo/demo.jpg";
  std::vector<std::string> models{"faster", "mask", "fcos"};
  std::string python = "/usr/bin/python3";
  std::string source_dir = ".";  // the repository root (configs/, bench/)
  std::string worker;  // internal: run the cppdet side for this model
};

std::string config_for(const Args& args, const std::string& model) {
  if (model == "fcos") return args.source_dir + "/configs/fcos/fcos_r50_caffe_fpn_gn-head_1x_coco.py";
  return args.source_dir + (model == "faster" ? "/configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py"
                                              : "/configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.py");
}

const char* model_title(const std::string& model) {
  return model == "faster" ? "Faster R-CNN R50-FPN" : model == "mask" ? "Mask R-CNN R50-FPN" : "FCOS R50-FPN";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The fixed workload. R-CNN: "person" (class 0) at probability e^5 / (e^5 + 80), zero box
// deltas. FCOS: "person" logit 5 and -10 for the other classes at every position, centerness
// logit 0, distances exp(Scale_l * 1) = the level's stride.
void calibrate_box_head(cppdet::models::Detector& detector) {
  torch::NoGradGuard no_grad;
  const double log_strides[] = {std::log(8.0), std::log(16.0), std::log(32.0), std::log(64.0), std::log(128.0)};
  for (auto& item : detector.named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    if (name.find("bbox_head.fc_reg.") != std::string::npos) p.zero_();
    if (name.find("bbox_head.fc_cls.") != std::string::npos) {
      p.zero_();
      if (ends_with(name, "bias")) p[0].fill_(5.0);
    }
    if (name.find("bbox_head.conv_cls.") != std::string::npos) {
      p.zero_();
      if (ends_with(name, "bias")) p.fill_(-10.0), p[0].fill_(5.0);
    }
    if (name.find("bbox_head.conv_centerness.") != std::string::npos) p.zero_();
    if (name.find("bbox_head.conv_reg.") != std::string::npos) p.fill_(ends_with(name, "bias") ? 1.0 : 0.0);
    if (name.find("bbox_head.scales.") != std::string::npos)
      p.fill_(log_strides[std::stoi(name.substr(std::string("bbox_head.scales.").size()))]);
  }
}

// Runs fn warmup + iters times; records each timed run's wall and CPU (all threads) time into
// out[<name>_ms], out[<name>_cpu_ms] and their medians.
template <typename Fn>
void time_into(json& out, const std::string& name, int warmup, int iters, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> wall, cpu;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_ms();
    fn();
    cpu.push_back(process_cpu_ms() - c0);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  out[name + "_ms"] = wall;
  out[name + "_cpu_ms"] = cpu;
  out[name + "_median_ms"] = median(wall);
  out[name + "_cpu_median_ms"] = median(cpu);
}

int run_worker(const Args& args) {
  at::set_num_threads(args.threads);
  cppdet::apis::InferenceModel model = cppdet::apis::init_detector(config_for(args, args.worker), "", "cpu");
  calibrate_box_head(*model.detector);

  cppdet::data::Sample input;
  input.img_file = args.image;
  cppdet::DetBatch batch = cppdet::data::collate((*model.file_pipeline)(std::move(input)));

  size_t detections = 0;
  int64_t proposals = 0;
  json out;
  out["framework"] = "cppdet";
  out["threads"] = args.threads;
  out["input_shape"] = batch.img.sizes().vec();
  time_into(out, "e2e", args.warmup, args.iters, [&] {
    const cppdet::DetResult r = cppdet::apis::inference_detector(model, args.image);
    detections = 0;
    for (const auto& b : r.bboxes) detections += static_cast<size_t>(b.size(0));
  });
  time_into(out, "model", args.warmup, args.iters, [&] {
    torch::NoGradGuard no_grad;
    model.detector->simple_test(batch.img, batch.metas, true);
  });
  {
    torch::NoGradGuard no_grad;
    cppdet::models::DebugTrace trace;
    model.detector->simple_test(batch.img, batch.metas, true, &trace);
    if (const torch::Tensor* p = trace.find("rpn_proposals.0")) proposals = p->size(0);
  }
  out["detections"] = detections;
  out["proposals"] = proposals;
  out["peak_rss_kib"] = peak_rss_kib();
  std::cout << out.dump() << std::endl;
  return 0;
}

void print_row(const char* what, const json& c, const json& t, const char* key) {
  const double cm = c[key].get<double>(), tm = t[key].get<double>();
  std::printf("  %-24s cppdet %9.1f ms   torchvision %9.1f ms   ratio %.3f\n", what, cm, tm, cm / tm);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"inference latency and peak RSS of cppdet against torchvision, same machine and threads"};
  app.add_option("--threads", args.threads, "intra-op threads")->capture_default_str();
  app.add_option("--iters", args.iters, "timed iterations")->capture_default_str();
  app.add_option("--warmup", args.warmup, "untimed iterations first")->capture_default_str();
  app.add_option("--image", args.image, "input image")->capture_default_str();
  app.add_option("--models", args.models, "faster, mask and/or fcos")->delimiter(',')->capture_default_str();
  app.add_option("--python", args.python, "Python with torchvision, for the peer")->capture_default_str();
  app.add_option("--source-dir", args.source_dir, "the repository root (configs/, bench/)")->capture_default_str();
  app.add_option("--worker", args.worker, "internal: run the cppdet side for this model")->group("");
  CLI11_PARSE(app, argc, argv);
  if (!args.worker.empty()) return run_worker(args);

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::printf("inference latency, batch 1, %d thread(s), %d iteration(s) after %d warm-up, image %s\n", args.threads,
              args.iters, args.warmup, args.image.c_str());
  for (const std::string& m : args.models) {
    const std::vector<std::string> common = {"--threads", std::to_string(args.threads), "--iters",
                                             std::to_string(args.iters), "--warmup", std::to_string(args.warmup),
                                             "--image", args.image};
    std::vector<std::string> cpp_argv = {self, "--worker", m};
    cpp_argv.insert(cpp_argv.end(), common.begin(), common.end());
    std::vector<std::string> py_argv = {args.python, args.source_dir + "/bench/torchvision_peer.py", "--model", m};
    py_argv.insert(py_argv.end(), common.begin(), common.end());
    const json c = run_json(cpp_argv);
    const json t = run_json(py_argv);
    std::printf("%s, input %s (cppdet) / %s (torchvision), detections %zu / %zu", model_title(m),
                c["input_shape"].dump().c_str(), t["input_shape"].dump().c_str(), c["detections"].get<size_t>(),
                t["detections"].get<size_t>());
    if (m != "fcos") std::printf(", proposals %lld", c["proposals"].get<long long>());
    std::printf("\n");
    print_row("end-to-end median", c, t, "e2e_median_ms");
    print_row("model-only median", c, t, "model_median_ms");
    print_row("end-to-end median CPU", c, t, "e2e_cpu_median_ms");
    print_row("model-only median CPU", c, t, "model_cpu_median_ms");
    std::printf("  %-24s cppdet %9.0f MiB  torchvision %9.0f MiB  ratio %.3f\n", "peak RSS",
                c["peak_rss_kib"].get<double>() / 1024, t["peak_rss_kib"].get<double>() / 1024,
                c["peak_rss_kib"].get<double>() / t["peak_rss_kib"].get<double>());
#ifdef CPPDET_TCMALLOC_LIBRARY
    // The peer again with cppdet's allocator (TCMalloc, docs/build.md) preloaded, to show how
    // much of the ratio the allocator makes.
    setenv("LD_PRELOAD", CPPDET_TCMALLOC_LIBRARY, 1);
    const json tuned = run_json(py_argv);
    unsetenv("LD_PRELOAD");
    std::printf("  torchvision with LD_PRELOAD=%s:\n", CPPDET_TCMALLOC_LIBRARY);
    print_row("end-to-end median", c, tuned, "e2e_median_ms");
    print_row("model-only median", c, tuned, "model_median_ms");
    std::printf("  %-24s cppdet %9.0f MiB  torchvision %9.0f MiB  ratio %.3f\n", "peak RSS",
                c["peak_rss_kib"].get<double>() / 1024, tuned["peak_rss_kib"].get<double>() / 1024,
                c["peak_rss_kib"].get<double>() / tuned["peak_rss_kib"].get<double>());
#endif
    std::fflush(stdout);
  }
  return 0;
}
