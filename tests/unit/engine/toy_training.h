#pragma once
// A tiny linear-regression "detector" and dataset for the engine tests: each sample carries
// 3 features in `inputs` [3, 1, 1] and its target in gt_bboxes[0][0]; the model returns
// ordered log vars like a detector (loss_a, loss_b, acc).
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "cppdet/config/value.h"
#include "cppdet/data/loader/indexed_dataset.h"
#include "cppdet/engine/train_step.h"

namespace cppdet::engine::testing {

inline config::Value dict(std::initializer_list<std::pair<const char*, config::Value>> items) {
  config::Dict d;
  for (const auto& [k, v] : items) d.set(k, v);
  return config::Value(d);
}

inline config::Value list(std::initializer_list<config::Value> items) { return config::Value::list(items); }

struct ToyNetImpl : torch::nn::Module {
  ToyNetImpl() { fc = register_module("fc", torch::nn::Linear(3, 1)); }
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ToyNet);

class ToyDataset : public data::IndexedDataset {
 public:
  explicit ToyDataset(size_t n = 11) : n_(n) {}
  size_t size() const override { return n_; }
  uint8_t group_flag(size_t i) const override { return i % 3 == 0 ? 1 : 0; }
  data::Sample get(size_t i, uint64_t) const override {
    const double d = static_cast<double>(i);
    const float x0 = static_cast<float>(std::sin(d)), x1 = static_cast<float>(std::cos(d)), x2 = static_cast<float>(d / 10);
    data::Sample s;
    s.inputs = torch::tensor({x0, x1, x2}).view({3, 1, 1});
    s.meta.filename = "toy_" + std::to_string(i);
    s.meta.ori_shape = s.meta.img_shape = s.meta.pad_shape = {1, 1, 3};
    const float y = 2 * x0 - x1 + 0.5f * x2 + 0.3f;
    s.gt_bboxes = torch::tensor({y, 0.f, 1.f, 1.f}).view({1, 4});
    s.gt_labels = torch::zeros({1}, torch::kLong);
    return s;
  }

 private:
  size_t n_;
};

// forward_train of the toy model. `on_call(k)` runs before the k-th call (0-based), e.g. to
// block or to inject a NaN (return true to poison loss_b).
inline ForwardTrain toy_forward(ToyNet net, std::function<bool(int64_t)> on_call = {}) {
  auto calls = std::make_shared<std::atomic<int64_t>>(0);
  return [net, on_call, calls](const DetBatch& batch) mutable {
    const int64_t k = (*calls)++;
    const bool poison = on_call ? on_call(k) : false;
    const int64_t n = batch.img.size(0);
    torch::Tensor x = batch.img.view({n, 3});
    std::vector<torch::Tensor> ys;
    for (const GtInstances& gt : batch.gts) ys.push_back(gt.bboxes[0][0]);
    torch::Tensor y = torch::stack(ys).view({n, 1});
    torch::Tensor pred = net->fc(x);
    torch::Tensor loss_a = torch::mse_loss(pred, y);
    torch::Tensor loss_b = 0.1 * (pred - y).abs().mean();
    if (poison) loss_b = loss_b * std::nan("");
    torch::Tensor acc = 100.0 * ((pred - y).abs() < 0.1).to(torch::kFloat).mean();
    return LogVars{{"loss_a", loss_a}, {"loss_b", loss_b}, {"acc", acc.detach()}};
  };
}

// The toy's training config (3 epochs of 6 batches: group sizes 4 and 7, 2 per batch).
inline config::Value toy_config(int64_t max_epochs = 3) {
  return dict({
      {"optimizer", dict({{"type", "SGD"}, {"lr", 0.05}, {"momentum", 0.9}, {"weight_decay", 1e-4}})},
      {"optimizer_config", dict({{"grad_clip", config::Value()}})},
      {"lr_config", dict({{"policy", "step"}, {"warmup", "linear"}, {"warmup_iters", 4}, {"warmup_ratio", 0.1},
                          {"step", list({2})}})},
      {"runner", dict({{"type", "EpochBasedRunner"}, {"max_epochs", max_epochs}})},
      {"checkpoint_config", dict({{"interval", 1}})},
      {"log_config", dict({{"interval", 2}, {"hooks", list({dict({{"type", "TextLoggerHook"}})})}})},
      {"evaluation", dict({{"interval", 1}, {"metric", "bbox"}, {"save_best", "auto"}})},
      {"data", dict({{"samples_per_gpu", 2}, {"workers_per_gpu", 2}})},
      {"workflow", list({config::Value::tuple({config::Value("train"), config::Value(1)})})},
  });
}

}  // namespace cppdet::engine::testing
