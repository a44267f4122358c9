// fuse_conv_bn (models/common/fuse_conv_bn.h) and the MKL-DNN CPU inference path
// (models/precision/inference_precision.h) against the plain eval-mode model: same features up to float
// rounding. The oracle detections on the MKL-DNN path are checked by OracleParity.
//
// Tolerance: folding a BatchNorm replaces conv -> (y - mean) * s + beta by conv(w * s) + b',
// which re-rounds every conv output (a few float ulps, ~1e-7 relative, per layer); over the
// 50+ layers of a ResNet-50 that grows to ~1e-5 of a feature map's largest magnitude, so
// features are compared at 1e-4 of it. A wrong fold (a missed BN, a swapped mean/var, a
// shortcut without its BN) changes them by far more than that (order 1e-1).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/models/backbones/resnet.h"
#include "cppdet/models/common/fuse_conv_bn.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/precision/inference_precision.h"

namespace cppdet::models {
namespace {

// Conv weights He-initialised and BatchNorms with non-trivial statistics and affine
// parameters, so folding changes every conv.
void randomise(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (const auto& m : net.modules(/*include_self=*/true)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) {
      conv->weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(conv->weight[0].numel())));
    } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.normal_(0.0, 0.1);
      bn->running_mean.normal_(0.0, 0.2);
      bn->running_var.uniform_(0.5, 2.0);
    }
  }
}

std::shared_ptr<ResNet> random_resnet(int64_t depth, const std::string& style = "pytorch") {
  torch::manual_seed(0);
  ResNetOptions o;
  o.depth = depth;
  o.base_channels = 8;
  o.style = style;
  auto net = std::make_shared<ResNet>(o);
  randomise(*net);
  net->eval();
  return net;
}

void expect_features_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& ref) {
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_FALSE(got[i].is_mkldnn());
    ASSERT_EQ(got[i].sizes(), ref[i].sizes());
    const double scale = ref[i].abs().max().item<double>();
    EXPECT_LE((got[i] - ref[i]).abs().max().item<double>(), 1e-4 * scale) << "level " << i;
  }
}

size_t state_size(torch::nn::Module& net) { return net.named_parameters().size() + net.named_buffers().size(); }

TEST(FuseConvBn, ResNet50GivesTheSameFeaturesWithoutItsBatchNorms) {
  std::shared_ptr<ResNet> net = random_resnet(50);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 96, 128});
  const std::vector<torch::Tensor> ref = net->forward(x);
  const size_t keys_before = state_size(*net);

  EXPECT_EQ(fuse_conv_bn(*net), 53);  // stem + 16 blocks x 3 + 4 downsample shortcuts
  expect_features_close(net->forward(x), ref);
  // As mmcv's nn.Identity in the BN's place: the BN keys are gone, each fused conv has a bias.
  const auto params = net->named_parameters();
  EXPECT_EQ(params.find("bn1.weight"), nullptr);
  EXPECT_EQ(params.find("layer3.5.bn3.bias"), nullptr);
  EXPECT_EQ(net->named_buffers().find("layer1.0.downsample.1.running_mean"), nullptr);
  EXPECT_NE(params.find("conv1.bias"), nullptr);
  EXPECT_NE(params.find("layer2.0.conv2.bias"), nullptr);
  EXPECT_NE(params.find("layer1.0.downsample.0.bias"), nullptr);
  // BN: weight, bias, running_mean, running_var, num_batches_tracked; conv: + bias.
  EXPECT_EQ(state_size(*net), keys_before - 53 * 5 + 53);
  EXPECT_EQ(fuse_conv_bn(*net), 0);  // nothing left to fold
  expect_features_close(net->forward(x), ref);
}

TEST(FuseConvBn, ConvModuleGetsABiasAndLosesItsNorm) {
  torch::manual_seed(1);
  ConvModuleOptions o;
  o.in_channels = 4;
  o.out_channels = 6;
  o.kernel_size = 3;
  o.padding = 1;
  o.norm = NormConfig{};
  ConvModule module(o);
  randomise(*module);
  module->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 4, 9, 7});
  const torch::Tensor ref = module->forward(x);
  EXPECT_EQ(fuse_conv_bn(*module), 1);
  EXPECT_EQ(module->named_children().size(), 1u);  // "bn" removed
  EXPECT_EQ(module->named_parameters().size(), 2u);  // conv.weight, conv.bias
  EXPECT_TRUE(module->conv->bias.defined());
  EXPECT_LE((module->forward(x) - ref).abs().max().item<double>(), 1e-5 * ref.abs().max().item<double>());
}

TEST(FuseConvBn, LeavesBatchNormsInTrainingModeAlone) {
  std::shared_ptr<ResNet> net = random_resnet(18);
  for (const auto& m : net->modules(/*include_self=*/false))
    if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) m->train();  // batch statistics: nothing fixed to fold
  const size_t keys = state_size(*net);
  EXPECT_EQ(fuse_conv_bn(*net), 0);
  EXPECT_EQ(state_size(*net), keys);
}

TEST(MkldnnInference, ResNetsGiveTheSameFeatures) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch built without MKL-DNN";
  for (const auto& [depth, style] :
       std::vector<std::pair<int64_t, std::string>>{{50, "pytorch"}, {18, "pytorch"}, {50, "caffe"}}) {
    SCOPED_TRACE("depth " + std::to_string(depth) + " " + style);
    std::shared_ptr<ResNet> net = random_resnet(depth, style);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({2, 3, 100, 132});  // odd sizes after the strides
    const std::vector<torch::Tensor> ref = net->forward(x);
    ASSERT_EQ(set_mkldnn_inference(*net, true), 1);
    expect_features_close(net->forward(x), ref);
    // After fuse_conv_bn (convs with a bias, no BN) the path gives the same numbers.
    fuse_conv_bn(*net);
    ASSERT_EQ(set_mkldnn_inference(*net, true), 1);
    expect_features_close(net->forward(x), ref);
  }
}

TEST(MkldnnInference, IsNeverUsedForTrainingOrWithAutograd) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch built without MKL-DNN";
  std::shared_ptr<ResNet> net = random_resnet(18);
  ASSERT_EQ(set_mkldnn_inference(*net, true), 1);
  const torch::Tensor x = torch::randn({1, 3, 64, 64});
  EXPECT_TRUE(net->forward(x)[0].requires_grad());  // autograd on: the modules run
  net->train();
  EXPECT_EQ(set_mkldnn_inference(*net, true), 0);
  net->eval();
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> ref = net->forward(x);  // train(true) dropped the path
  ASSERT_EQ(set_mkldnn_inference(*net, true), 1);
  expect_features_close(net->forward(x), ref);
  EXPECT_EQ(set_mkldnn_inference(*net, false), 0);
}

TEST(MkldnnInference, SeesWeightsChangedAfterItWasTurnedOn) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch built without MKL-DNN";
  std::shared_ptr<ResNet> net = random_resnet(18);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 64, 64});
  ASSERT_EQ(set_mkldnn_inference(*net, true), 1);
  const std::vector<torch::Tensor> before = net->forward(x);
  // As load_state_dict does: in-place changes of a conv weight and a BN statistic.
  net->named_parameters()["layer2.0.conv1.weight"].mul_(-1.5);
  net->named_buffers()["layer3.1.bn2.running_var"].mul_(4.0);
  const std::vector<torch::Tensor> after = net->forward(x);
  set_mkldnn_inference(*net, false);
  const std::vector<torch::Tensor> plain = net->forward(x);  // the modules, new weights
  expect_features_close(after, plain);
  EXPECT_GT((plain[3] - before[3]).abs().max().item<double>(), 1e-2 * before[3].abs().max().item<double>());
}

}  // namespace
}  // namespace cppdet::models
