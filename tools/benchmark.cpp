// `cppdet benchmark CONFIG CHECKPOINT [--max-iter 2000] [--log-interval 50] [--repeat-num 1]
// [--fuse-conv-bn] [--precision fp32,bf16,int8] [--cfg-options ...] [--device cpu|cuda:N]`: mmdet's
// tools/analysis_tools/benchmark.py. Inference speed over data.test, one image per batch: the
// timed part is the model's forward and post-processing (copy to the device, simple_test with
// rescale, device synchronisation), not data loading; the first 5 images are warm-up. Prints
//   Done image [50 / 2000], fps: 12.3 img / s, times per image: 81.3 ms / img
// every --log-interval images and "Overall fps: ..." at --max-iter; with --repeat-num N > 1
// the whole measurement runs N times and the last line lists each run's fps and their mean.
// With several precisions the model is built and measured for each in turn, and a last line
// "fps by precision: fp32 3.1, bf16 5.9, int8 9.2" compares them.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "cppdet/apis/device.h"
#include "cppdet/apis/inference.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/models/common/fuse_conv_bn.h"
#include "cppdet/models/detector.h"
#include "train_common.h"

namespace cppdet::tools {
namespace {

constexpr int64_t kNumWarmup = 5;

struct BenchmarkOptions {
  std::string config, checkpoint, device = "cpu";
  int64_t max_iter = 2000, log_interval = 50, repeat_num = 1;
  bool fuse_conv_bn = false;
  std::vector<std::string> precisions{"fp32"};
  std::vector<std::string> cfg_options;
};

void print_line(const char* format, ...) __attribute__((format(printf, 1, 2)));
void print_line(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  std::cout << buf << "\n" << std::flush;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// One measurement: mmdet's measure_inference_speed. Images are taken in dataset order and
// reused from the start when the dataset has fewer than max_iter. Returns the overall fps.
double measure_inference_speed(const apis::InferenceModel& model, const data::DetectionDataset& dataset,
                               const BenchmarkOptions& o) {
  const torch::Device device(model.device);
  double pure_inf_time = 0;
  double fps = 0;
  for (int64_t i = 0; i < o.max_iter; ++i) {
    std::vector<data::Sample> samples = dataset.prepare(static_cast<size_t>(i) % dataset.size());
    if (samples.size() != 1)
      throw UserError("the test pipeline produced " + std::to_string(samples.size()) +
                      " augmented copies of an image; benchmark needs one (flip=False, one img_scale)");
    if (samples[0].inputs.scalar_type() != torch::kFloat32) samples[0].inputs = samples[0].inputs.to(torch::kFloat32);
    const DetBatch batch = data::collate(std::move(samples));

    synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    {
      torch::NoGradGuard no_grad;
      model.detector->simple_test(batch.img.to(device), batch.metas, /*rescale=*/true);
    }
    synchronize(device);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (i >= kNumWarmup) {
      pure_inf_time += elapsed;
      if ((i + 1) % o.log_interval == 0) {
        fps = static_cast<double>(i + 1 - kNumWarmup) / pure_inf_time;
        print_line("Done image [%-3lld/ %lld], fps: %.1f img / s, times per image: %.1f ms / img",
                   static_cast<long long>(i + 1), static_cast<long long>(o.max_iter), fps, 1000.0 / fps);
      }
    }
  }
  fps = static_cast<double>(o.max_iter - kNumWarmup) / pure_inf_time;
  print_line("Overall fps: %.1f img / s, times per image: %.1f ms / img", fps, 1000.0 / fps);
  return fps;
}

// "[12.3, 12.5]" as Python prints a list of numbers rounded to one decimal.
std::string rounded_list(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%.1f", i ? ", " : "", values[i]);
    out += buf;
  }
  return out + "]";
}

// Builds the model for `precision` and measures it --repeat-num times; returns the (mean) fps.
double measure_precision(const config::Value& cfg, const std::string& device, models::Precision precision,
                         const data::DetectionDataset& dataset, const BenchmarkOptions& o) {
  apis::InferenceModel model = apis::init_detector(cfg, o.checkpoint, device, precision);
  if (o.fuse_conv_bn) models::fuse_conv_bn(*model.detector);
  std::vector<double> fps;
  for (int64_t r = 0; r < o.repeat_num; ++r) fps.push_back(measure_inference_speed(model, dataset, o));
  if (o.repeat_num > 1) {
    std::vector<double> fps_rounded, ms_rounded;
    double fps_sum = 0, ms_sum = 0;
    for (double f : fps) {
      fps_rounded.push_back(std::round(f * 10) / 10);
      ms_rounded.push_back(std::round(1000.0 / f * 10) / 10);
      fps_sum += fps_rounded.back();
      ms_sum += ms_rounded.back();
    }
    const double n = static_cast<double>(fps.size());
    print_line("Overall fps: %s[%.1f] img / s, times per image: %s[%.1f] ms / img", rounded_list(fps_rounded).c_str(),
               fps_sum / n, rounded_list(ms_rounded).c_str(), ms_sum / n);
    return fps_sum / n;
  }
  return fps.front();
}

void run_benchmark(const BenchmarkOptions& o) {
  if (o.max_iter <= kNumWarmup)
    throw UserError("--max-iter must be greater than the " + std::to_string(kNumWarmup) + " warm-up images, got " +
                    std::to_string(o.max_iter));
  if (o.log_interval < 1) throw UserError("--log-interval must be at least 1");
  if (o.repeat_num < 1) throw UserError("--repeat-num must be at least 1");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.checkpoint, ec)) throw UserError("checkpoint file not found: " + o.checkpoint);
  configure_threads();
  const std::string device = apis::check_device(o.device);
  const config::Value cfg = load_config_and_plugins(o.config, o.cfg_options);
  const std::shared_ptr<data::DetectionDataset> dataset = data::build_dataset(data_split(cfg, "test"), true, "data.test");
  if (dataset->size() == 0) throw UserError("data.test has no images to benchmark on");
  std::vector<models::Precision> precisions;
  for (const std::string& p : o.precisions) precisions.push_back(models::parse_precision(p));
  std::string summary;
  for (const models::Precision precision : precisions) {
    if (precisions.size() > 1) print_line("precision %s:", models::precision_name(precision));
    const double fps = measure_precision(cfg, device, precision, *dataset, o);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%s %.1f", summary.empty() ? "" : ", ", models::precision_name(precision), fps);
    summary += buf;
  }
  if (precisions.size() > 1) print_line("fps by precision: %s", summary.c_str());
}

}  // namespace

void register_benchmark(CLI::App& app) {
  auto o = std::make_shared<BenchmarkOptions>();
  CLI::App* cmd = app.add_subcommand(
      "benchmark", "inference speed (fps) of a checkpoint over data.test (mmdet tools/analysis_tools/benchmark.py)");
  cmd->add_option("config", o->config, "config file")->required();
  cmd->add_option("checkpoint", o->checkpoint, "checkpoint file (.pth)")->required();
  cmd->add_option("--max-iter", o->max_iter, "images to time, the 5 warm-up images included (default 2000)");
  cmd->add_option("--log-interval", o->log_interval, "print the running fps every N images (default 50)");
  cmd->add_option("--repeat-num", o->repeat_num, "repeat the measurement N times and print the mean fps (default 1)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_flag("--fuse-conv-bn", o->fuse_conv_bn, "fold each BatchNorm into the convolution before it (faster)");
  cmd->add_option("--precision", o->precisions,
                  "fp32, bf16 and/or int8 (comma-separated: each is measured in turn; int8 needs a checkpoint made by "
                  "`cppdet quantize`); CPU only")
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
  add_cfg_options(*cmd, o->cfg_options);
  cmd->callback([o] { run_benchmark(*o); });
}

}  // namespace cppdet::tools
