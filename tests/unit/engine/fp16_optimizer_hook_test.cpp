// Mixed precision: the fp16 config, torch.cuda.amp.GradScaler's rules in LossScaler (run on CPU
// tensors), and train_detector refusing fp16 on the CPU with a message.
#include "cppdet/engine/hooks/fp16_optimizer_hook.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "support/test_support.h"

namespace cppdet::engine {
namespace {

config::Value loss_scale(config::Value v) {
  config::Dict d;
  d.set("loss_scale", std::move(v));
  return config::Value(d);
}

TEST(Fp16Config, StaticDynamicAndDictLossScales) {
  const Fp16Options fixed = fp16_from_config(loss_scale(config::Value(512.0)));
  ASSERT_TRUE(fixed.static_scale.has_value());
  EXPECT_EQ(*fixed.static_scale, 512.0);
  EXPECT_EQ(fixed.scaler.init_scale, 512.0);
  const Fp16Options dynamic = fp16_from_config(loss_scale(config::Value("dynamic")));
  EXPECT_FALSE(dynamic.static_scale.has_value());
  EXPECT_EQ(dynamic.scaler.init_scale, 65536.0);
  EXPECT_EQ(dynamic.scaler.growth_interval, 2000);
  config::Dict custom;
  custom.set("init_scale", 1024.0);
  custom.set("growth_interval", int64_t{3});
  const Fp16Options d = fp16_from_config(loss_scale(config::Value(custom)));
  EXPECT_EQ(d.scaler.init_scale, 1024.0);
  EXPECT_EQ(d.scaler.growth_interval, 3);
  EXPECT_NE(cppdet::testing::user_error_of([] { fp16_from_config(loss_scale(config::Value("auto"))); })
                .find("fp16.loss_scale: expected a number, 'dynamic' or a dict"),
            std::string::npos);
  config::Dict typo;
  typo.set("loss_scal", 512.0);
  EXPECT_NE(cppdet::testing::user_error_of([&] { fp16_from_config(config::Value(typo)); }).find("loss_scal"),
            std::string::npos);
}

TEST(LossScaler, UnscalesAndFlagsOverflowLikeGradScaler) {
  LossScaler scaler(LossScalerOptions{8.0, 2.0, 0.5, 2});
  torch::Tensor w = torch::ones({3}, torch::requires_grad());
  scaler.scale_loss((w * torch::tensor({1.f, 2.f, 3.f})).sum()).backward();
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({8.f, 16.f, 24.f})));
  EXPECT_FALSE(scaler.unscale({w}));
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({1.f, 2.f, 3.f})));
  // growth_interval good steps double the scale; an overflow halves it and restarts the count.
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 8.0);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 16.0);
  w.mutable_grad()[1] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(scaler.unscale({w}));
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 8.0);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 8.0);
  // A static scale (loss_scale=512.) is restored after every step.
  scaler.update(true, 512.0);
  EXPECT_EQ(scaler.scale(), 512.0);
  const config::Dict state = scaler.state_dict();
  EXPECT_EQ(state.keys(), (std::vector<std::string>{"scale", "growth_factor", "backoff_factor", "growth_interval",
                                                    "_growth_tracker"}));
  LossScaler restored(LossScalerOptions{});
  restored.load_state_dict(state, "test");
  EXPECT_EQ(restored.scale(), 512.0);
}

}  // namespace
}  // namespace cppdet::engine
