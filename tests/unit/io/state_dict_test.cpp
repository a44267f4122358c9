// load_state_dict / module_state_dict: mmcv.runner.load_checkpoint's matching and report.
#include "cppdet/io/state_dict.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/core/error.h"

namespace cppdet::io {
namespace {

struct Head : torch::nn::Module {
  Head() { fc_cls = register_module("fc_cls", torch::nn::Linear(4, 3)); }
  torch::nn::Linear fc_cls{nullptr};
};

struct Net : torch::nn::Module {
  Net() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 2, 1)));
    bn = register_module("bn", torch::nn::BatchNorm2d(2));
    head = register_module("head", std::make_shared<Head>());
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  std::shared_ptr<Head> head;
};

std::vector<std::string> names(const StateDict& sd) {
  std::vector<std::string> out;
  for (const auto& entry : sd) out.push_back(entry.first);
  return out;
}

TEST(ModuleStateDict, TorchOrder) {
  Net net;
  EXPECT_EQ(names(module_state_dict(net)),
            (std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                      "bn.running_var", "bn.num_batches_tracked", "head.fc_cls.weight",
                                      "head.fc_cls.bias"}));
}

TEST(LoadStateDict, ExactMatchCopiesAndConvertsDtype) {
  Net source, target;
  StateDict sd = module_state_dict(source);
  for (auto& entry : sd) entry.second = entry.second.detach().clone().to(torch::kFloat64).fill_(0.5);
  LoadReport report = load_state_dict(target, sd, /*strict=*/true);
  EXPECT_TRUE(report.exact());
  EXPECT_EQ(report.message(), "");
  EXPECT_EQ(report.loaded_keys.size(), 9u);
  EXPECT_EQ(target.conv->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::all(target.conv->weight == 0.5).item<bool>());
  EXPECT_EQ(target.bn->num_batches_tracked.item<int64_t>(), 0);  // 0.5 -> int64 0
  EXPECT_TRUE(target.conv->weight.requires_grad());
}

TEST(LoadStateDict, ReportsLikeMmcv) {
  Net net;
  const torch::Tensor kept = net.head->fc_cls->weight.detach().clone();
  StateDict sd = {
      {"conv.weight", torch::ones({2, 3, 1, 1})},
      {"conv.bias", torch::ones({2})},
      {"head.fc_cls.weight", torch::ones({81, 4})},
      {"head.fc_cls.bias", torch::ones({3})},
      {"extra.a", torch::ones({1})},
      {"extra.b", torch::ones({1})},
  };
  LoadReport report = load_state_dict(net, sd, /*strict=*/false);
  EXPECT_EQ(report.missing_keys, (std::vector<std::string>{"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}));
  EXPECT_EQ(report.unexpected_keys, (std::vector<std::string>{"extra.a", "extra.b"}));
  ASSERT_EQ(report.size_mismatches.size(), 1u);
  EXPECT_TRUE(net.head->fc_cls->weight.equal(kept)) << "mismatched tensors are not copied";
  EXPECT_TRUE(torch::all(net.conv->weight == 1).item<bool>());
  EXPECT_EQ(report.message(),
            "The model and loaded state dict do not match exactly\n\n"
            "size mismatch for head.fc_cls.weight: copying a param with shape torch.Size([81, 4]) from checkpoint, "
            "the shape in current model is torch.Size([3, 4]).\n"
            "unexpected key in source state_dict: extra.a, extra.b\n\n"
            "missing keys in source state_dict: bn.weight, bn.bias, bn.running_mean, bn.running_var\n");
  try {
    load_state_dict(net, sd, /*strict=*/true);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), report.message());
  }
}

TEST(LoadStateDict, OneElementTensorLoadsIntoScalarBuffer) {
  Net net;
  StateDict sd = module_state_dict(net);
  for (auto& entry : sd)
    if (entry.first == "bn.num_batches_tracked") entry.second = torch::tensor({int64_t{7}});
  LoadReport report = load_state_dict(net, sd, true);
  EXPECT_TRUE(report.exact());
  EXPECT_EQ(net.bn->num_batches_tracked.item<int64_t>(), 7);
}

}  // namespace
}  // namespace cppdet::io
