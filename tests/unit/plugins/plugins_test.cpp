// Plugins (apis/plugins.h, registry/plugin.h): the AugFPN plugin (examples/plugins/augfpn)
// against a Python re-computation of what its header says it computes, a Faster R-CNN with
// the AugFPN neck built from a config through `cppdet` and in this process, and loading in
// this process (the failure modes through `cppdet`: tests/unit/e2e/custom_imports_test.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cppdet/apis/inference.h"
#include "cppdet/apis/plugins.h"
#include "cppdet/config/config_file.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/necks/neck.h"
#include "cppdet/models/registries.h"
#include "support/test_support.h"
#include "unit/ops/python_reference.h"

namespace cppdet::apis {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

// The build folder (build/bin/cppdet -> build).
fs::path build_dir() { return fs::path(testing::cppdet_exe()).parent_path().parent_path(); }

std::string tiny_faster_config() { return testing::fixture("oracle_cases/faster_tiny_r50/config.py"); }

// `dir`/config.py: the tiny Faster R-CNN with `custom_imports` and optional extra lines.
std::string write_config(const std::string& dir, const std::string& custom_imports, const std::string& extra = "") {
  const std::string path = dir + "/config.py";
  std::ofstream(path) << "_base_ = '" << tiny_faster_config() << "'\n"
                      << "custom_imports = " << custom_imports << "\n"
                      << extra;
  return path;
}


TEST(AugFPN, MatchesPythonRecomputation) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  load_plugin("augfpn");
  const config::Value cfg = config::parse_config_text(
      "neck = dict(type='AugFPN', in_channels=[4, 8, 16], out_channels=6, num_outs=4, pool_ratios=[0.1, 0.25, 0.5])\n",
      "augfpn.py");
  torch::manual_seed(0);
  std::shared_ptr<models::Neck> neck = models::neck_registry().build(cfg.as_dict().at("neck"), "model.neck");
  // Odd sizes: the 0.1 branch of the 10x9 top level pools to 1x1 (floor(0.9) -> max(1, 0)).
  testing::TensorMap inputs = {{"x0", torch::randn({2, 4, 40, 36})},
                               {"x1", torch::randn({2, 8, 20, 18})},
                               {"x2", torch::randn({2, 16, 10, 9})}};
  for (const auto& p : neck->named_parameters()) inputs[p.key()] = p.value().detach().clone();
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> outs = neck->forward({inputs["x0"], inputs["x1"], inputs["x2"]});

  // The header's description of AugFPN, written independently in PyTorch.
  const testing::TensorMap ref = testing::run_python_reference(R"(
import torch.nn.functional as F
p = inp
x = [p['x0'], p['x1'], p['x2']]
top = x[2]
H, W = top.shape[2], top.shape[3]
B = []
for k, r in enumerate([0.1, 0.25, 0.5]):
    a = F.adaptive_avg_pool2d(top, (max(1, int(r * H)), max(1, int(r * W))))
    b = F.conv2d(a, p['rfa_pool_convs.%d.weight' % k], p['rfa_pool_convs.%d.bias' % k])
    B.append(F.interpolate(b, size=(H, W), mode='bilinear', align_corners=False))
h = F.relu(F.conv2d(torch.cat(B, 1), p['rfa_fusion.0.weight'], p['rfa_fusion.0.bias']))
w = torch.sigmoid(F.conv2d(h, p['rfa_fusion.2.weight'], p['rfa_fusion.2.bias'], padding=1))
M = sum(w[:, k:k + 1] * B[k] for k in range(3))
lat = [F.conv2d(x[i], p['lateral_convs.%d.conv.weight' % i], p['lateral_convs.%d.conv.bias' % i]) for i in range(3)]
lat[2] = lat[2] + M
for i in (2, 1):
    lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[2:], mode='nearest')
outs = [F.conv2d(lat[i], p['fpn_convs.%d.conv.weight' % i], p['fpn_convs.%d.conv.bias' % i], padding=1) for i in range(3)]
outs.append(F.max_pool2d(outs[-1], 1, stride=2))
for i, o in enumerate(outs):
    out['out%d' % i] = o
)",
                                                               inputs);
  ASSERT_EQ(outs.size(), 4u);
  for (size_t i = 0; i < outs.size(); ++i) {
    const torch::Tensor& expected = ref.at("out" + std::to_string(i));
    ASSERT_EQ(outs[i].sizes(), expected.sizes()) << "level " << i;
    EXPECT_TRUE(torch::allclose(outs[i], expected, 1e-4, 1e-5))
        << "level " << i << ": max diff " << (outs[i] - expected).abs().max().item<float>();
  }
}

TEST(AugFPN, RejectsBadOptionsNamingTheKey) {
  load_plugin("augfpn");
  auto error_of = [](const std::string& neck) {
    const config::Value cfg = config::parse_config_text("neck = " + neck + "\n", "augfpn.py");
    return testing::user_error_of([&] { models::neck_registry().build(cfg.as_dict().at("neck"), "model.neck"); });
  };
  EXPECT_NE(error_of("dict(type='AugFPN', in_channels=[4], out_channels=4, num_outs=1, pool_ratios=[0.1, 1.5])")
                .find("model.neck.pool_ratios.1: expected a ratio in (0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of("dict(type='AugFPN', in_channels=[4], out_channels=4, num_outs=1, pool_ratio=[0.1])")
                .find("model.neck: unknown key"),
            std::string::npos)
      << error_of("dict(type='AugFPN', in_channels=[4], out_channels=4, num_outs=1, pool_ratio=[0.1])");
}

// The tiny Faster R-CNN with neck=AugFPN from a config with custom_imports: its state_dict is
// FPN's plus the AugFPN parameters under neck.*, and `cppdet infer` (which loads the shipped
// plugin itself) detects the same boxes as this process.
TEST(AugFPN, FasterRCNNThroughCppdetEqualsInProcess) {
  const std::string dir = testing::make_temp_dir("augfpn_faster");
  const std::string config_path = write_config(dir, "dict(imports=['augfpn'], allow_failed_imports=False)",
                                               "model = dict(neck=dict(type='AugFPN', pool_ratios=[0.1, 0.2, 0.3]))\n");
  const config::Value cfg = config::load_config(config_path);
  load_plugins(cfg, config_path);
  torch::manual_seed(0);
  std::shared_ptr<models::Detector> model = models::build_detector(cfg.as_dict().at("model"));
  const io::LoadReport report = io::load_state_dict(
      *model, io::read_checkpoint(testing::fixture("oracle_cases/faster_tiny_r50/checkpoint_zip.pth")).state_dict, false);
  EXPECT_TRUE(report.unexpected_keys.empty());
  EXPECT_EQ(report.missing_keys,
            (std::vector<std::string>{"neck.rfa_pool_convs.0.weight", "neck.rfa_pool_convs.0.bias",
                                      "neck.rfa_pool_convs.1.weight", "neck.rfa_pool_convs.1.bias",
                                      "neck.rfa_pool_convs.2.weight", "neck.rfa_pool_convs.2.bias",
                                      "neck.rfa_fusion.0.weight", "neck.rfa_fusion.0.bias", "neck.rfa_fusion.2.weight",
                                      "neck.rfa_fusion.2.bias"}));
  io::CheckpointToWrite ckpt;
  ckpt.state_dict = io::module_state_dict(*model);
  const std::string checkpoint = dir + "/augfpn.pth";
  io::write_checkpoint(checkpoint, ckpt);

  const std::string image = testing::source_dir() + "/demo/demo.jpg";
  const InferenceModel in_process = init_detector(config_path, checkpoint);
  const DetResult mine = inference_detector(in_process, image);
  const CommandResult r = testing::run_cppdet("infer " + testing::shell_quote(config_path) + " " +
                                              testing::shell_quote(checkpoint) + " " + testing::shell_quote(image) +
                                              " --out " + testing::shell_quote(dir + "/results.json") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json theirs = nlohmann::json::parse(testing::read_text(dir + "/results.json"))["images"][0]["bbox_result"];
  ASSERT_EQ(theirs.size(), mine.bboxes.size());
  int64_t detections = 0;
  for (size_t c = 0; c < mine.bboxes.size(); ++c) {
    ASSERT_EQ(static_cast<int64_t>(theirs[c].size()), mine.bboxes[c].size(0)) << "class " << c;
    for (int64_t i = 0; i < mine.bboxes[c].size(0); ++i)
      for (int64_t j = 0; j < 5; ++j)
        EXPECT_NEAR(theirs[c][i][j].get<double>(), mine.bboxes[c][i][j].item<double>(), 1e-3) << "class " << c;
    detections += mine.bboxes[c].size(0);
  }
  EXPECT_GT(detections, 0);

  // The augmentation path takes part: FPN alone (the same weights without it) detects otherwise.
  const InferenceModel fpn_only = init_detector(tiny_faster_config(), testing::fixture("oracle_cases/faster_tiny_r50/checkpoint_zip.pth"));
  const DetResult plain = inference_detector(fpn_only, image);
  bool differ = false;
  for (size_t c = 0; c < plain.bboxes.size() && !differ; ++c)
    differ = !plain.bboxes[c].sizes().equals(mine.bboxes[c].sizes()) || !torch::equal(plain.bboxes[c], mine.bboxes[c]);
  EXPECT_TRUE(differ);
}

TEST(Plugins, ShippedPluginLoadedOncePerProcessByNameAndByFile) {
  // The shipped plugins are next to libcppdet: build/lib/cppdet/plugins.
  EXPECT_EQ(fs::weakly_canonical(shipped_plugin_dir()),
            fs::weakly_canonical(build_dir() / CPPDET_TEST_LIBDIR / "cppdet" / "plugins"));
  const std::string file = load_plugin("augfpn");
  EXPECT_EQ(fs::path(file), fs::path(shipped_plugin_dir()) / "libaugfpn.so");
  const size_t count = registration_count();
  EXPECT_EQ(load_plugin("augfpn"), file);
  EXPECT_EQ(load_plugin(file), file);  // the same file by its path
  EXPECT_EQ(registration_count(), count);
  EXPECT_TRUE(models::neck_registry().contains("AugFPN"));
}

TEST(Plugins, SecondCopyOfAPluginRegistersANameTwice) {
  load_plugin("augfpn");
  const std::string dir = testing::make_temp_dir("augfpn_copy");
  fs::copy_file(fs::path(shipped_plugin_dir()) / "libaugfpn.so", dir + "/libaugfpn_copy.so");
  const std::string error = testing::user_error_of([&] { load_plugin(dir + "/libaugfpn_copy.so"); });
  EXPECT_NE(error.find("custom_imports: module '" + dir + "/libaugfpn_copy.so'"), std::string::npos) << error;
  EXPECT_NE(error.find("registration failed: neck 'AugFPN' is already registered"), std::string::npos) << error;
}

}  // namespace
}  // namespace cppdet::apis
