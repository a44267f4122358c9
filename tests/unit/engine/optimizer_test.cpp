// Optimizer construction (mmcv's DefaultOptimizerConstructor rules), SGD arithmetic, grad
// clipping and the torch.optim state_dict layout.
#include "cppdet/engine/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "cppdet/core/error.h"
#include "toy_training.h"

namespace cppdet::engine {
namespace {

using testing::dict;

struct HeadImpl : torch::nn::Module {
  HeadImpl() { fc = register_module("fc", torch::nn::Linear(4, 2)); }
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(Head);

struct PwNetImpl : torch::nn::Module {
  PwNetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    dw = register_module("dw", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 4, 3).groups(4)));
    head = register_module("head", Head());
    frozen = register_module("frozen", torch::nn::Linear(torch::nn::LinearOptions(2, 2).bias(false)));
    frozen->weight.set_requires_grad(false);
  }
  torch::nn::Conv2d conv{nullptr}, dw{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  Head head{nullptr};
  torch::nn::Linear frozen{nullptr};
};
TORCH_MODULE(PwNet);

TEST(Optimizer, WithoutParamwiseOneGroupWithEveryParameter) {
  PwNet net;
  Optimizer opt(*net, optimizer_from_config(dict({{"type", "SGD"}, {"lr", 0.02}, {"momentum", 0.9}, {"weight_decay", 1e-4}})));
  ASSERT_EQ(opt.num_groups(), 1u);
  EXPECT_EQ(opt.group_names()[0].size(), net->parameters().size());  // frozen ones included, as mmcv
  EXPECT_EQ(opt.group_names()[0].front(), "conv.weight");
  EXPECT_EQ(opt.group_names()[0].back(), "frozen.weight");
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.02);
  EXPECT_DOUBLE_EQ(opt.group_weight_decay(0), 1e-4);
  EXPECT_EQ(opt.initial_lrs(), std::vector<double>{0.02});
}

TEST(Optimizer, ParamwiseRulesFollowMmcv) {
  PwNet net;
  const auto cfg = dict({{"type", "SGD"},
                         {"lr", 0.1},
                         {"momentum", 0.9},
                         {"weight_decay", 1e-4},
                         {"paramwise_cfg", dict({{"bias_lr_mult", 2.0},
                                                 {"bias_decay_mult", 0.0},
                                                 {"norm_decay_mult", 0.0},
                                                 {"dwconv_decay_mult", 0.5},
                                                 {"custom_keys", dict({{"head", dict({{"lr_mult", 0.1}, {"decay_mult", 3.0}})},
                                                                       {"head.fc.b", dict({{"lr_mult", 0.5}})}})}})}});
  Optimizer opt(*net, optimizer_from_config(cfg));
  std::map<std::string, std::pair<double, double>> got;
  for (size_t g = 0; g < opt.num_groups(); ++g) {
    ASSERT_EQ(opt.group_names()[g].size(), 1u);
    got[opt.group_names()[g][0]] = {opt.lr(g), opt.group_weight_decay(g)};
  }
  const std::map<std::string, std::pair<double, double>> want = {
      {"conv.weight", {0.1, 1e-4}},    {"conv.bias", {0.2, 0.0}},        {"bn.weight", {0.1, 0.0}},
      {"bn.bias", {0.1, 0.0}},         {"dw.weight", {0.1, 0.5e-4}},     {"dw.bias", {0.2, 0.5e-4}},
      {"head.fc.weight", {0.1 * 0.1, 3e-4}}, {"head.fc.bias", {0.1 * 0.5, 1e-4}},  // longest key wins
      {"frozen.weight", {0.1, 1e-4}},  // requires_grad=False: defaults
  };
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, lw] : want) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(got.count(name));
    EXPECT_DOUBLE_EQ(got[name].first, lw.first);
    EXPECT_DOUBLE_EQ(got[name].second, lw.second);
  }
  EXPECT_EQ(opt.group_names()[0][0], "conv.weight");  // named_parameters() order
}

TEST(Optimizer, DecayMultWithoutWeightDecayIsAnError) {
  EXPECT_THROW(optimizer_from_config(dict({{"type", "SGD"}, {"lr", 0.1}, {"paramwise_cfg", dict({{"norm_decay_mult", 0.0}})}})),
               ConfigError);
  EXPECT_THROW(optimizer_from_config(dict({{"type", "Adam"}, {"lr", 0.1}})), ConfigError);
  EXPECT_THROW(optimizer_from_config(dict({{"type", "SGD"}})), ConfigError);
}

TEST(Optimizer, SgdStepsMatchTorchFormula) {
  // p <- p - lr * buf, buf = momentum * buf + (g + wd * p) (first step: buf = g + wd * p).
  struct P : torch::nn::Module {
    P() { w = register_parameter("w", torch::tensor({1.0, -2.0}, torch::kDouble)); }
    torch::Tensor w;
  };
  auto m = std::make_shared<P>();
  Optimizer opt(*m, optimizer_from_config(dict({{"type", "SGD"}, {"lr", 0.5}, {"momentum", 0.9}, {"weight_decay", 0.1}})));
  const double c[2] = {3.0, 0.5};
  double p[2] = {1.0, -2.0}, buf[2] = {0, 0};
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    (m->w * torch::tensor({c[0], c[1]}, torch::kDouble)).sum().backward();
    opt.step();
    for (int i = 0; i < 2; ++i) {
      const double d = c[i] + 0.1 * p[i];
      buf[i] = step == 0 ? d : 0.9 * buf[i] + d;
      p[i] -= 0.5 * buf[i];
    }
    EXPECT_NEAR(m->w[0].item<double>(), p[0], 1e-12);
    EXPECT_NEAR(m->w[1].item<double>(), p[1], 1e-12);
  }
}

TEST(Optimizer, GradClipReturnsTotalNormAndScales) {
  struct P : torch::nn::Module {
    P() { w = register_parameter("w", torch::zeros({2})); }
    torch::Tensor w;
  };
  auto m = std::make_shared<P>();
  Optimizer opt(*m, optimizer_from_config(dict({{"type", "SGD"}, {"lr", 0.1}})));
  (m->w * torch::tensor({3.0f, 4.0f})).sum().backward();
  const auto clip = grad_clip_from_config(dict({{"grad_clip", dict({{"max_norm", 1.0}, {"norm_type", 2}})}}));
  ASSERT_TRUE(clip.has_value());
  EXPECT_NEAR(opt.clip_grad_norm(*clip), 5.0, 1e-6);
  EXPECT_NEAR(m->w.grad().norm().item<double>(), 1.0, 1e-5);
  EXPECT_FALSE(grad_clip_from_config(dict({{"grad_clip", config::Value()}})).has_value());
}

TEST(Optimizer, StateDictHasTorchLayoutAndRoundTrips) {
  torch::manual_seed(0);
  PwNet net;
  const auto cfg = dict({{"type", "SGD"}, {"lr", 0.02}, {"momentum", 0.9}, {"weight_decay", 1e-4}});
  Optimizer opt(*net, optimizer_from_config(cfg));
  auto loss = [&] {
    torch::Tensor x = torch::randn({2, 3, 7, 7});
    net->train();
    torch::Tensor y = net->dw(net->bn(net->conv(x))).mean({2, 3});
    return net->head->fc(y).pow(2).sum();
  };
  opt.zero_grad();
  loss().backward();
  opt.step();
  opt.set_lr(0, 0.01);
  const io::SavedValue state = opt.state_dict();

  const io::SavedValue* groups = state.find(std::string("param_groups"));
  ASSERT_NE(groups, nullptr);
  ASSERT_EQ(groups->as_sequence().size(), 1u);
  const io::SavedValue& g = groups->as_sequence()[0];
  std::vector<std::string> keys;
  for (const auto& [k, v] : g.as_dict()) keys.push_back(std::get<std::string>(k));
  EXPECT_EQ(keys, (std::vector<std::string>{"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach",
                                            "differentiable", "initial_lr", "params"}));
  EXPECT_DOUBLE_EQ(g.find(std::string("lr"))->as_float(), 0.01);
  EXPECT_DOUBLE_EQ(g.find(std::string("initial_lr"))->as_float(), 0.02);
  const size_t n = net->parameters().size();
  ASSERT_EQ(g.find(std::string("params"))->as_sequence().size(), n);
  // Every trainable parameter got a momentum buffer; the frozen one (last) did not.
  const io::SavedDict& st = state.find(std::string("state"))->as_dict();
  EXPECT_EQ(st.size(), n - 1);
  EXPECT_EQ(std::get<int64_t>(st.front().first), 0);

  PwNet other;
  Optimizer restored(*other, optimizer_from_config(cfg));
  restored.load_state_dict(state, "test");
  EXPECT_DOUBLE_EQ(restored.lr(0), 0.01);
  EXPECT_DOUBLE_EQ(restored.initial_lrs()[0], 0.02);
  const io::SavedValue again = restored.state_dict();
  const io::SavedDict& st2 = again.find(std::string("state"))->as_dict();
  ASSERT_EQ(st2.size(), st.size());
  for (size_t i = 0; i < st.size(); ++i) {
    const torch::Tensor a = st[i].second.find(std::string("momentum_buffer"))->as_tensor();
    const torch::Tensor b = st2[i].second.find(std::string("momentum_buffer"))->as_tensor();
    EXPECT_TRUE(torch::equal(a, b));
  }

  PwNet mismatch;
  const auto pw = dict({{"type", "SGD"}, {"lr", 0.02}, {"weight_decay", 1e-4}, {"paramwise_cfg", dict({{"bias_lr_mult", 2.0}})}});
  Optimizer wrong(*mismatch, optimizer_from_config(pw));
  EXPECT_THROW(wrong.load_state_dict(state, "ckpt.pth"), FileFormatError);
}

}  // namespace
}  // namespace cppdet::engine
