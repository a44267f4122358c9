// Cascade Mask R-CNN against Mask R-CNN (both cppdet, R50-FPN, full size), measured in one
// invocation:
//
//   build/bench/bench_cascade [--threads N] [--iters K] [--warmup W] [--image demo.jpg]
//                             [--source-dir .] [--profile]
//
// Run from the repository root (or pass --source-dir): it reads configs/. Each model runs in a
// fresh process (this executable re-run as a worker) on the same image (demo.jpg, 640x427 ->
// resized 1199x800, batch 1216x800) with the same thread count. Both models have random weights
// in MMDetection's layout and the same workload: every box classifier predicts "person" with
// probability ~0.65 and zero box deltas (all three cascade stages alike), so each image keeps
// 1000 proposals, 100 detections and 100 pasted masks; the cascade runs its three box heads on
// the 1000 RoIs and its three mask heads on the 100 detections. Prints the medians, the
// cascade / Mask R-CNN ratio (goal: <= 1.5), each process's peak RSS, and where the model time
// goes (backbone + neck, RPN, RoI head; wall and CPU medians). --profile adds the twelve aten
// operators with the largest self time in one RoI-head call of each model.
//
//   end-to-end: read + decode the file, preprocess, network, post-process (rescaled boxes,
//               masks pasted at the original size)
//   model-only: from the preprocessed batch to the same final result
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "cppdet/apis/inference.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/detectors/two_stage.h"
#include "cppdet/models/roi_heads/roi_head.h"

namespace {

using cppdet::bench::OpProfile;
using cppdet::bench::peak_rss_kib;
using cppdet::bench::run_json;
using cppdet::bench::time_into;
using nlohmann::json;

struct Args {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int iters = 5;
  int warmup = 1;
  std::string image = "../shared/data/mmdet_demo/demo.jpg";
  std::string source_dir = ".";
  bool profile = false;
  std::string worker;  // internal: "mask" or "cascade_mask"
};

std::string config_for(const Args& args, const std::string& model) {
  return args.source_dir + (model == "mask" ? "/configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.py"
                                            : "/configs/cascade_rcnn/cascade_mask_rcnn_r50_fpn_1x_coco.py");
}

// "person" (class 0) at probability e^5 / (e^5 + 80) in every box head, zero box deltas.
void calibrate_box_heads(cppdet::models::Detector& detector) {
  torch::NoGradGuard no_grad;
  for (auto& item : detector.named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    if (name.find(".fc_reg.") != std::string::npos) p.zero_();
    if (name.find(".fc_cls.") != std::string::npos) {
      p.zero_();
      if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) p[0].fill_(5.0);
    }
  }
}

int run_worker(const Args& args) {
  at::set_num_threads(args.threads);
  cppdet::apis::InferenceModel model = cppdet::apis::init_detector(config_for(args, args.worker), "", "cpu");
  calibrate_box_heads(*model.detector);
  cppdet::data::Sample input;
  input.img_file = args.image;
  cppdet::DetBatch batch = cppdet::data::collate((*model.file_pipeline)(std::move(input)));

  size_t detections = 0, masks = 0;
  json out;
  out["threads"] = args.threads;
  out["input_shape"] = batch.img.sizes().vec();
  time_into(out, "e2e", args.warmup, args.iters, [&] {
    const cppdet::DetResult r = cppdet::apis::inference_detector(model, args.image);
    detections = masks = 0;
    for (const auto& b : r.bboxes) detections += static_cast<size_t>(b.size(0));
    for (const auto& m : r.masks) masks += static_cast<size_t>(m.size(0));
  });
  time_into(out, "model", args.warmup, args.iters, [&] {
    torch::NoGradGuard no_grad;
    model.detector->simple_test(batch.img, batch.metas, true);
  });
  // The model's parts, each on the previous part's output.
  auto& two_stage = dynamic_cast<cppdet::models::TwoStageDetector&>(*model.detector);
  auto& rpn = static_cast<cppdet::models::RPNHead&>(two_stage.rpn_head());
  torch::NoGradGuard no_grad;
  c10::InferenceMode inference;
  const std::vector<torch::Tensor> feats = two_stage.extract_feat(batch.img);
  const std::vector<torch::Tensor> proposals = rpn.simple_test_rpn(rpn.forward(feats), batch.metas);
  time_into(out, "features", args.warmup, args.iters, [&] { two_stage.extract_feat(batch.img); });
  time_into(out, "rpn", args.warmup, args.iters, [&] { rpn.simple_test_rpn(rpn.forward(feats), batch.metas); });
  time_into(out, "roi_head", args.warmup, args.iters,
            [&] { two_stage.roi_head().simple_test(feats, proposals, batch.metas, true, nullptr); });
  if (args.profile)
    out["roi_head_top_ops"] =
        OpProfile::top_ops([&] { two_stage.roi_head().simple_test(feats, proposals, batch.metas, true, nullptr); }, 12);
  out["detections"] = detections;
  out["masks"] = masks;
  out["peak_rss_kib"] = peak_rss_kib();
  std::cout << out.dump() << std::endl;
  return 0;
}

void print_row(const char* what, const json& mask, const json& cascade, const char* key) {
  const double m = mask[key].get<double>(), c = cascade[key].get<double>();
  std::printf("  %-24s Mask R-CNN %9.1f ms   Cascade Mask R-CNN %9.1f ms   ratio %.3f\n", what, m, c, c / m);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"Cascade Mask R-CNN against Mask R-CNN (cppdet, R50-FPN), same image, machine and threads"};
  app.add_option("--threads", args.threads, "intra-op threads")->capture_default_str();
  app.add_option("--iters", args.iters, "timed iterations")->capture_default_str();
  app.add_option("--warmup", args.warmup, "untimed iterations first")->capture_default_str();
  app.add_option("--image", args.image, "input image")->capture_default_str();
  app.add_option("--source-dir", args.source_dir, "the repository root (configs/)")->capture_default_str();
  app.add_flag("--profile", args.profile, "print the slowest operators of each RoI head");
  app.add_option("--worker", args.worker, "internal: run this model")->group("");
  CLI11_PARSE(app, argc, argv);
  if (!args.worker.empty()) return run_worker(args);

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::printf("inference latency, batch 1, %d thread(s), %d iteration(s) after %d warm-up, image %s\n", args.threads,
              args.iters, args.warmup, args.image.c_str());
  json result[2];
  const char* models[2] = {"mask", "cascade_mask"};
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> argv = {self,          "--worker", models[i],         "--threads",
                                     std::to_string(args.threads), "--iters", std::to_string(args.iters),
                                     "--warmup",    std::to_string(args.warmup), "--image", args.image,
                                     "--source-dir", args.source_dir};
    if (args.profile) argv.push_back("--profile");
    result[i] = run_json(argv);
  }
  const json& m = result[0];
  const json& c = result[1];
  std::printf("input %s, detections %zu / %zu, masks %zu / %zu (Mask R-CNN / cascade)\n", c["input_shape"].dump().c_str(),
              m["detections"].get<size_t>(), c["detections"].get<size_t>(), m["masks"].get<size_t>(),
              c["masks"].get<size_t>());
  print_row("end-to-end median", m, c, "e2e_median_ms");
  print_row("model-only median", m, c, "model_median_ms");
  print_row("end-to-end median CPU", m, c, "e2e_cpu_median_ms");
  print_row("model-only median CPU", m, c, "model_cpu_median_ms");
  for (const char* part : {"features", "rpn", "roi_head"}) {
    print_row((std::string(part) + " median").c_str(), m, c, (std::string(part) + "_median_ms").c_str());
    print_row((std::string(part) + " median CPU").c_str(), m, c, (std::string(part) + "_cpu_median_ms").c_str());
  }
  std::printf("  %-24s Mask R-CNN %9.0f MiB  Cascade Mask R-CNN %9.0f MiB  ratio %.3f\n", "peak RSS",
              m["peak_rss_kib"].get<double>() / 1024, c["peak_rss_kib"].get<double>() / 1024,
              c["peak_rss_kib"].get<double>() / m["peak_rss_kib"].get<double>());
  if (args.profile)
    for (int i = 0; i < 2; ++i) {
      std::printf("  RoI head, top operators by self time (%s):\n", models[i]);
      for (const json& op : result[i]["roi_head_top_ops"])
        std::printf("    %-40s %9.1f ms  %6lld calls\n", op["name"].get<std::string>().c_str(), op["self_ms"].get<double>(),
                    op["calls"].get<long long>());
    }
  std::printf("goal: cascade end-to-end <= 1.5x Mask R-CNN: %s\n",
              c["e2e_median_ms"].get<double>() <= 1.5 * m["e2e_median_ms"].get<double>() ? "met" : "missed");
  return 0;
}
