// Deformable convolution on the CPU: cppdet's kernel (ops/deform_conv.h) against
// torchvision.ops.deform_conv2d, measured in one invocation on the same tensors:
//
//   build/bench/bench_deform_conv [--threads 2] [--iters 5] [--warmup 1] [--modes v1,v2,v2_train]
//                                 [--python /usr/bin/python3] [--source-dir .]
//
// The shapes are the 3x3 DCN layers of ResNet-50 stages 2-4 (mmdet's dconv_c3-c5 configs) for an
// 800x1216 batch: each stage's first block (stride 2) and its other blocks, batch 1, fp32,
// offsets N(0, 1.5^2) px, mask sigmoid(N(0, 1)). Modes: v1 (no mask) and v2 (mask) inference,
// v2_train (v2 forward + backward to input, offset, mask and weight). cppdet runs in this
// process, torchvision in bench/torchvision_deform_conv_peer.py; both with --threads intra-op
// threads. Prints per-case medians, their ratio and the largest difference of the outputs.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "cppdet/ops/deform_conv.h"

namespace {

using cppdet::bench::median;
using cppdet::bench::now_ms;
using json = nlohmann::json;

struct Case {
  std::string name;
  int64_t channels, height, width, stride;
};

// ResNet-50 conv2 of stages 2-4 at 800x1216 (strides 4 / 8 / 16 / 32 after the stem).
const std::vector<Case> kCases{
    {"c3_first", 128, 200, 304, 2}, {"c3", 128, 100, 152, 1}, {"c4_first", 256, 100, 152, 2},
    {"c4", 256, 50, 76, 1},         {"c5_first", 512, 50, 76, 2}, {"c5", 512, 25, 38, 1},
};

struct Tensors {
  torch::Tensor input, offset, mask, weight;
};

Tensors make_tensors(const Case& c) {
  const int64_t out_h = (c.height - 1) / c.stride + 1, out_w = (c.width - 1) / c.stride + 1;
  Tensors t;
  t.input = torch::randn({1, c.channels, c.height, c.width});
  t.offset = torch::randn({1, 18, out_h, out_w}) * 1.5;
  t.mask = torch::sigmoid(torch::randn({1, 9, out_h, out_w}));
  t.weight = torch::randn({c.channels, c.channels, 3, 3}) * (1.0 / std::sqrt(9.0 * c.channels));
  return t;
}

void write_raw(const std::string& path, const torch::Tensor& t) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(t.contiguous().data_ptr()), static_cast<std::streamsize>(t.nbytes()));
}

torch::Tensor read_raw(const std::string& path, at::IntArrayRef shape) {
  torch::Tensor t = torch::empty(shape, torch::kFloat);
  std::ifstream f(path, std::ios::binary);
  f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  return t;
}

torch::Tensor run(const Tensors& t, const Case& c, const std::string& mode) {
  cppdet::ops::DeformConvParams p;
  p.stride_h = p.stride_w = c.stride;
  p.pad_h = p.pad_w = 1;
  if (mode == "v1") {
    torch::NoGradGuard no_grad;
    return cppdet::ops::deform_conv2d(t.input, t.offset, t.weight, p);
  }
  if (mode == "v2") {
    torch::NoGradGuard no_grad;
    return cppdet::ops::modulated_deform_conv2d(t.input, t.offset, t.mask, t.weight, torch::Tensor(), p);
  }
  const torch::Tensor x = t.input.clone().requires_grad_(true), off = t.offset.clone().requires_grad_(true);
  const torch::Tensor m = t.mask.clone().requires_grad_(true), w = t.weight.clone().requires_grad_(true);
  const torch::Tensor y = cppdet::ops::modulated_deform_conv2d(x, off, m, w, torch::Tensor(), p);
  y.sum().backward();
  return y.detach();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, iters = 5, warmup = 1;
  std::vector<std::string> modes{"v1", "v2", "v2_train"};
  std::string python = "/usr/bin/python3", source_dir = ".";
  CLI::App app{"deformable convolution on the CPU: cppdet against torchvision.ops.deform_conv2d, same run"};
  app.add_option("--threads", threads, "intra-op threads, both sides")->capture_default_str();
  app.add_option("--iters", iters, "timed iterations")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed iterations first")->capture_default_str();
  app.add_option("--modes", modes, "v1, v2, v2_train")->delimiter(',')->capture_default_str();
  app.add_option("--python", python, "Python with torchvision, for the peer")->capture_default_str();
  app.add_option("--source-dir", source_dir, "the repository root (bench/)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(threads);

  const std::string dir = (std::filesystem::temp_directory_path() / ("bench_deform_conv_" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  torch::manual_seed(0);
  std::vector<Tensors> tensors;
  json manifest{{"cases", json::array()}};
  for (const Case& c : kCases) {
    tensors.push_back(make_tensors(c));
    const Tensors& t = tensors.back();
    json shapes;
    for (const auto& [name, tensor] : {std::pair<std::string, torch::Tensor>{"input", t.input}, {"offset", t.offset},
                                       {"mask", t.mask}, {"weight", t.weight}}) {
      write_raw(dir + "/" + c.name + "_" + name + ".bin", tensor);
      shapes[name] = tensor.sizes().vec();
    }
    manifest["cases"].push_back({{"name", c.name}, {"shapes", shapes}, {"stride", c.stride}, {"padding", 1}, {"dilation", 1}});
  }
  std::ofstream(dir + "/manifest.json") << manifest.dump();

  std::string mode_list;
  for (const std::string& m : modes) mode_list += (mode_list.empty() ? "" : ",") + m;
  const json peer = cppdet::bench::run_json({python, source_dir + "/bench/torchvision_deform_conv_peer.py", "--dir", dir,
                                             "--threads", std::to_string(threads), "--warmup", std::to_string(warmup),
                                             "--iters", std::to_string(iters), "--modes", mode_list});

  std::printf("deformable conv 3x3, batch 1, fp32, %d threads; median of %d (after %d warm-up)\n", threads, iters, warmup);
  std::printf("%-9s %-9s %-22s %11s %13s %7s %12s\n", "case", "mode", "input -> output", "cppdet ms", "torchvision ms",
              "ratio", "max |diff|");
  for (const std::string& mode : modes) {
    double total_cppdet = 0, total_peer = 0;
    for (size_t i = 0; i < kCases.size(); ++i) {
      const Case& c = kCases[i];
      torch::Tensor y;
      for (int k = 0; k < warmup; ++k) y = run(tensors[i], c, mode);
      std::vector<double> ms;
      for (int k = 0; k < iters; ++k) {
        const double start = now_ms();
        y = run(tensors[i], c, mode);
        ms.push_back(now_ms() - start);
      }
      const double ours = median(ms), theirs = median(peer[c.name][mode].get<std::vector<double>>());
      total_cppdet += ours;
      total_peer += theirs;
      const torch::Tensor ref = read_raw(dir + "/tv_" + c.name + "_" + mode + ".bin", y.sizes());
      const double diff = (y - ref).abs().max().item<double>();
      char shape[64];
      std::snprintf(shape, sizeof(shape), "%ldx%ldx%ld -> %ldx%ld", static_cast<long>(c.channels), static_cast<long>(c.height),
                    static_cast<long>(c.width), static_cast<long>(y.size(2)), static_cast<long>(y.size(3)));
      std::printf("%-9s %-9s %-22s %11.1f %13.1f %7.2f %12.2e\n", c.name.c_str(), mode.c_str(), shape, ours, theirs,
                  ours / theirs, diff);
    }
    std::printf("%-9s %-9s %-22s %11.1f %13.1f %7.2f\n", "all", mode.c_str(), "(sum of medians)", total_cppdet, total_peer,
                total_cppdet / total_peer);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
