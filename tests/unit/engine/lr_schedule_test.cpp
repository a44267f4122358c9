// LR schedules against mmcv's LrUpdaterHook: tests/fixtures/engine/lr_schedule.json holds the
// lr of every iteration of 12 epochs x 100 iterations for three schedules, recorded from a
// real mmcv EpochBasedRunner.
#include "cppdet/engine/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "support/test_support.h"
#include "toy_training.h"

namespace cppdet::engine {
namespace {

using testing::dict;
using testing::list;

config::Value from_json(const nlohmann::json& j) {
  if (j.is_object()) {
    config::Dict d;
    for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), from_json(it.value()));
    return config::Value(d);
  }
  if (j.is_array()) {
    config::List l;
    for (const auto& v : j) l.push_back(from_json(v));
    return config::Value::list(l);
  }
  if (j.is_string()) return config::Value(j.get<std::string>());
  if (j.is_boolean()) return config::Value(j.get<bool>());
  if (j.is_number_integer()) return config::Value(j.get<int64_t>());
  if (j.is_number_float()) return config::Value(j.get<double>());
  return config::Value();
}

TEST(LrSchedule, MatchesMmcvAtEveryIteration) {
  const auto json = nlohmann::json::parse(read_file(cppdet::testing::fixture("engine/lr_schedule.json")));
  const int64_t per_epoch = json.at("iters_per_epoch").get<int64_t>();
  const int64_t epochs = json.at("max_epochs").get<int64_t>();
  const double base_lr = json.at("optimizer").at("lr").get<double>();
  int checked_schedules = 0;
  for (auto it = json.at("schedules").begin(); it != json.at("schedules").end(); ++it) {
    SCOPED_TRACE(it.key());
    const LrSchedule schedule(lr_schedule_from_config(from_json(it.value().at("lr_config"))));
    const auto& expected = it.value().at("lr");
    ASSERT_EQ(static_cast<int64_t>(expected.size()), per_epoch * epochs);
    for (int64_t e = 0; e < epochs; ++e) {
      for (int64_t i = 0; i < per_epoch; ++i) {
        TrainProgress p{e, e * per_epoch + i, per_epoch, epochs, per_epoch * epochs};
        const double want = expected[static_cast<size_t>(p.iter)].get<double>();
        const double got = schedule.lr(base_lr, p);
        ASSERT_LE(std::abs(got - want), 1e-12 * std::abs(want)) << "iteration " << p.iter << ": " << got << " vs " << want;
      }
    }
    ++checked_schedules;
  }
  EXPECT_EQ(checked_schedules, 3);
}

TEST(LrSchedule, StepWithIntPeriodAndMinLr) {
  const LrSchedule s(lr_schedule_from_config(dict({{"policy", "step"}, {"step", 3}, {"gamma", 0.5}, {"min_lr", 0.03}})));
  EXPECT_DOUBLE_EQ(s.lr(0.2, {2, 0, 10, 12, 120}), 0.2);
  EXPECT_DOUBLE_EQ(s.lr(0.2, {3, 0, 10, 12, 120}), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(0.2, {6, 0, 10, 12, 120}), 0.05);
  EXPECT_DOUBLE_EQ(s.lr(0.2, {9, 0, 10, 12, 120}), 0.03);  // 0.025 clamped to min_lr
}

TEST(LrSchedule, WarmupByEpochCountsEpochs) {
  const LrSchedule s(lr_schedule_from_config(
      dict({{"policy", "fixed"}, {"warmup", "constant"}, {"warmup_iters", 2}, {"warmup_ratio", 0.25}, {"warmup_by_epoch", true}})));
  EXPECT_DOUBLE_EQ(s.lr(0.1, {1, 19, 10, 5, 50}), 0.025);  // iteration 19 < 2 epochs x 10
  EXPECT_DOUBLE_EQ(s.lr(0.1, {2, 20, 10, 5, 50}), 0.1);
}

TEST(LrSchedule, PolyAndExpPolicies) {
  const LrSchedule poly(lr_schedule_from_config(dict({{"policy", "poly"}, {"power", 2.0}, {"min_lr", 0.01}, {"by_epoch", false}})));
  EXPECT_DOUBLE_EQ(poly.lr(0.11, {0, 50, 10, 0, 100}), (0.11 - 0.01) * 0.25 + 0.01);
  const LrSchedule exp(lr_schedule_from_config(dict({{"policy", "exp"}, {"gamma", 0.5}})));
  EXPECT_DOUBLE_EQ(exp.lr(0.4, {2, 0, 10, 5, 50}), 0.1);
}

TEST(LrSchedule, BadConfigsNameTheKey) {
  EXPECT_THROW(lr_schedule_from_config(dict({{"policy", "cyclic"}})), ConfigError);
  try {
    lr_schedule_from_config(dict({{"policy", "step"}, {"step", list({8})}, {"warmup", "linear"}, {"warmup_iters", 0}}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("lr_config.warmup_iters"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lr_schedule_from_config(dict({{"policy", "CosineAnnealing"}})), ConfigError);
  EXPECT_THROW(lr_schedule_from_config(dict({{"policy", "step"}, {"step", list({8})}, {"typo", 1}})), ConfigError);
}

}  // namespace
}  // namespace cppdet::engine
