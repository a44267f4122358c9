// Inference latency of cppdet against torchvision and ONNX Runtime, measured in one invocation:
//
//   build/bench/bench_inference [--threads 1,2] [--precisions fp32,bf16,int8] [--busy-cores 1]
//                               [--iters K] [--warmup W] [--image demo.jpg] [--models faster,mask,fcos]
//                               [--python /usr/bin/python3] [--ort DIR/node_modules/onnxruntime-node]
//                               [--onnx-cache DIR] [--source-dir .]
//
// Run from the repository root (or pass --source-dir): it reads configs/ and bench/.
//
// For each thread count and model, each side runs in a fresh process: cppdet in each precision
// (bf16 / int8: models/precision/; int8 is calibrated on the benchmark image first), torchvision,
// torchvision with TCMalloc preloaded, and, with --ort, ONNX Runtime's CPU runtime
// (bench/onnxruntime_peer.js under node, on torchvision's model exported to ONNX at opset 11 by
// bench/onnx_export.py, cached in --onnx-cache). Each cppdet row prints its ratio to the fastest
// fp32 peer's end-to-end median. --busy-cores N keeps N other processes spinning on the CPU for
// the whole run (the "another process keeps one core busy" case).
//
// The models: Faster R-CNN, Mask R-CNN and FCOS R50-FPN (full size, MMDetection layout, random
// weights; FCOS in fp32 only, bf16 / int8 cover the two-stage detectors). cppdet is this
// executable re-run as a worker; torchvision is bench/torchvision_peer.py
// (fasterrcnn_resnet50_fpn / maskrcnn_resnet50_fpn / fcos_resnet50_fpn, weights=None). All see
// the same image (demo.jpg, 640x427 -> resized 1199x800, batch 1216x800), the same thread count
// and the same workload: the box classifier is set to predict "person" with probability ~0.65
// and zero box deltas, so each image keeps 1000 proposals, 100 detections and (Mask R-CNN) 100
// pasted masks; FCOS's classifier predicts "person" at every position (logit 5, the other
// classes -10) with boxes 2 strides wide, so both keep up to 1000 candidates per level for NMS
// and 100 detections. Prints, per thread count and model, each row's medians, peak RSS and
// ratio to the fastest fp32 peer.
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
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
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
#include "cppdet/models/precision/inference_precision.h"

namespace {

using cppdet::bench::peak_rss_kib;
using cppdet::bench::run_json;
using cppdet::bench::time_into;

using nlohmann::json;

struct Args {
  std::vector<int> threads{static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  std::vector<std::string> precisions{"fp32"};
  int busy_cores = 0;
  std::string ort;         // onnxruntime-node package folder ("" = no ONNX Runtime peer)
  std::string onnx_cache = "/tmp/cppdet_bench_onnx";
  int iters = 5;
  int warmup = 1;
  std::string image = "../shared/data/mmdet_demo/demo.jpg";
  std::vector<std::string> models{"faster", "mask", "fcos"};
  std::string python = "/usr/bin/python3";
  std::string source_dir = ".";  // the repository root (configs/, bench/)
  std::string worker;  // internal: run the cppdet side for this model
  std::string worker_precision = "fp32";  // internal
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

// int8 without a checkpoint: calibrates the (random-weight) model's activation ranges on the
// benchmark image, then prepares it in int8 with them (what `cppdet quantize` does with files).
void prepare_int8(cppdet::apis::InferenceModel& model, const std::string& image) {
  auto table = std::make_shared<cppdet::models::CalibrationTable>();
  cppdet::models::InferencePrecision p;
  p.mode = cppdet::models::PrecisionMode::kCalibrate;
  p.calibration = table;
  cppdet::models::set_inference_precision(*model.detector, p);
  cppdet::apis::inference_detector(model, image);
  p.mode = cppdet::models::PrecisionMode::kInt8;
  cppdet::models::set_inference_precision(*model.detector, p);
  model.precision = cppdet::models::Precision::kInt8;
}

int run_worker(const Args& args) {
  at::set_num_threads(args.threads.at(0));
  const cppdet::models::Precision precision = cppdet::models::parse_precision(args.worker_precision);
  cppdet::apis::InferenceModel model = cppdet::apis::init_detector(
      config_for(args, args.worker), "", "cpu", {},
      precision == cppdet::models::Precision::kInt8 ? cppdet::models::Precision::kFp32 : precision);
  calibrate_box_head(*model.detector);  // prepared layers are made again from the new weights
  if (precision == cppdet::models::Precision::kInt8) prepare_int8(model, args.image);

  cppdet::data::Sample input;
  input.img_file = args.image;
  cppdet::DetBatch batch = cppdet::data::collate((*model.file_pipeline)(std::move(input)));

  size_t detections = 0;
  int64_t proposals = 0;
  json out;
  out["framework"] = std::string("cppdet ") + cppdet::models::precision_name(model.precision);
  out["threads"] = args.threads.at(0);
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

// The busy processes of --busy-cores: each spins until killed.
std::vector<pid_t> start_busy_processes(int n) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      volatile uint64_t x = 0;
      for (;;) x = x + 1;
    }
    if (pid > 0) pids.push_back(pid);
  }
  return pids;
}

void stop_busy_processes(const std::vector<pid_t>& pids) {
  for (const pid_t pid : pids) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

struct Row {
  std::string name;
  json result;
};

void print_rows(const std::vector<Row>& rows, double fastest_peer_ms) {
  std::printf("  %-28s %10s %10s %10s %10s %9s %10s\n", "", "e2e ms", "model ms", "e2e CPU", "model CPU", "peak MiB",
              "/ peer e2e");
  for (const Row& r : rows) {
    const json& j = r.result;
    std::printf("  %-28s %10.1f %10.1f %10.1f %10.1f %9.0f", r.name.c_str(), j["e2e_median_ms"].get<double>(),
                j["model_median_ms"].get<double>(), j["e2e_cpu_median_ms"].get<double>(),
                j["model_cpu_median_ms"].get<double>(), j["peak_rss_kib"].get<double>() / 1024);
    if (fastest_peer_ms > 0) std::printf(" %10.3f", j["e2e_median_ms"].get<double>() / fastest_peer_ms);
    std::printf("\n");
  }
}

// The ONNX model of the torchvision peer, exported once per model into the cache folder.
std::string onnx_model(const Args& args, const std::string& m) {
  std::filesystem::create_directories(args.onnx_cache);
  const std::string path = args.onnx_cache + "/" + m + "_" + std::filesystem::path(args.image).stem().string() + ".onnx";
  if (!std::filesystem::exists(path + ".input.json")) {
    std::printf("  exporting torchvision's %s model to %s (opset 11) ...\n", m.c_str(), path.c_str());
    std::fflush(stdout);
    run_json({args.python, args.source_dir + "/bench/onnx_export.py", "--model", m, "--image", args.image, "--out", path});
  }
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"inference latency and peak RSS of cppdet (fp32 / bf16 / int8) against torchvision and ONNX Runtime"};
  app.add_option("--threads", args.threads, "intra-op thread counts, each measured in turn")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--precisions", args.precisions, "cppdet precisions: fp32, bf16, int8")
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->capture_default_str();
  app.add_option("--busy-cores", args.busy_cores, "other processes spinning during the whole run")->capture_default_str();
  app.add_option("--iters", args.iters, "timed iterations")->capture_default_str();
  app.add_option("--warmup", args.warmup, "untimed iterations first")->capture_default_str();
  app.add_option("--image", args.image, "input image")->capture_default_str();
  app.add_option("--models", args.models, "faster, mask and/or fcos")->delimiter(',')->capture_default_str();
  app.add_option("--python", args.python, "Python with torchvision, for the peers")->capture_default_str();
  app.add_option("--ort", args.ort, "onnxruntime-node package folder: adds the ONNX Runtime peer (not for fcos)");
  app.add_option("--onnx-cache", args.onnx_cache, "folder for the exported ONNX models")->capture_default_str();
  app.add_option("--source-dir", args.source_dir, "the repository root (configs/, bench/)")->capture_default_str();
  app.add_option("--worker", args.worker, "internal: run the cppdet side for this model")->group("");
  app.add_option("--worker-precision", args.worker_precision, "internal")->group("");
  CLI11_PARSE(app, argc, argv);
  if (!args.worker.empty()) return run_worker(args);

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("inference latency, batch 1, %d iteration(s) after %d warm-up, image %s, %d busy process(es), "
              "load average at start %.2f %.2f %.2f\n",
              args.iters, args.warmup, args.image.c_str(), args.busy_cores, load[0], load[1], load[2]);
  std::fflush(stdout);
  const std::vector<pid_t> busy = start_busy_processes(args.busy_cores);
  try {
    for (const int threads : args.threads) {
      for (const std::string& m : args.models) {
        const std::vector<std::string> common = {"--threads", std::to_string(threads), "--iters", std::to_string(args.iters),
                                                 "--warmup", std::to_string(args.warmup), "--image", args.image};
        std::vector<Row> peers, ours;
        std::vector<std::string> py_argv = {args.python, args.source_dir + "/bench/torchvision_peer.py", "--model", m};
        py_argv.insert(py_argv.end(), common.begin(), common.end());
        peers.push_back({"torchvision fp32", run_json(py_argv)});
#ifdef CPPDET_TCMALLOC_LIBRARY
        // The peer again with cppdet's allocator (TCMalloc, docs/build.md) preloaded.
        setenv("LD_PRELOAD", CPPDET_TCMALLOC_LIBRARY, 1);
        peers.push_back({"torchvision+TCMalloc fp32", run_json(py_argv)});
        unsetenv("LD_PRELOAD");
#endif
        if (!args.ort.empty() && m != "fcos") {
          const std::string onnx = onnx_model(args, m);
          peers.push_back({"ONNX Runtime fp32",
                           run_json({"/usr/bin/node", args.source_dir + "/bench/onnxruntime_peer.js", "--ort", args.ort,
                                     "--model", onnx, "--threads", std::to_string(threads), "--iters",
                                     std::to_string(args.iters), "--warmup", std::to_string(args.warmup)})});
        }
        for (const std::string& precision : args.precisions) {
          if (m == "fcos" && precision != "fp32") continue;  // bf16 / int8: two-stage detectors only
          std::vector<std::string> cpp_argv = {self, "--worker", m, "--worker-precision", precision};
          cpp_argv.insert(cpp_argv.end(), common.begin(), common.end());
          ours.push_back({"cppdet " + precision, run_json(cpp_argv)});
        }
        double fastest = 0;
        std::string fastest_name;
        for (const Row& p : peers)
          if (fastest == 0 || p.result["e2e_median_ms"].get<double>() < fastest)
            fastest = p.result["e2e_median_ms"].get<double>(), fastest_name = p.name;
        std::printf("%s, %d thread(s), input %s, detections", model_title(m), threads,
                    (ours.empty() ? peers : ours).front().result["input_shape"].dump().c_str());
        for (const Row& r : ours) std::printf(" %lld", r.result["detections"].get<long long>());
        for (const Row& r : peers) std::printf(" / %lld", r.result["detections"].get<long long>());
        std::printf("; ratio = e2e median / fastest peer's (%s %.1f ms)\n", fastest_name.c_str(), fastest);
        std::vector<Row> all = ours;
        all.insert(all.end(), peers.begin(), peers.end());
        print_rows(all, fastest);
        std::fflush(stdout);
      }
    }
  } catch (...) {
    stop_busy_processes(busy);
    throw;
  }
  stop_busy_processes(busy);
  return 0;
}
