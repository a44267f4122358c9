#pragma once
// Mixed-precision training: mmcv's Fp16OptimizerHook as it runs on PyTorch >= 1.6
// (torch.cuda.amp). The forward runs under CUDA autocast (convolutions and linear layers in
// fp16, the rest in fp32; the weights stay fp32), and the loss is scaled before backward:
//   zero_grad; backward(loss * scale); grads /= scale; [clip]; step unless a gradient is
//   inf/NaN; update the scale
// with the scale rules of torch.cuda.amp.GradScaler. Config (mmdet):
//   fp16 = dict(loss_scale=512.)        static: the scale stays 512, overflowing steps skipped
//   fp16 = dict(loss_scale='dynamic')   GradScaler(): 65536, x0.5 on overflow, x2 after 2000 good steps
//   fp16 = dict(loss_scale=dict(init_scale=..., growth_factor=..., backoff_factor=..., growth_interval=...))
// The scaler's state is kept in meta.fp16.loss_scaler of every checkpoint and restored on
// resume. CUDA autocast has no CPU counterpart in LibTorch 1.13, so train_detector refuses
// fp16 on a CPU device with a message; the scaler itself is device-independent.
#include <optional>

#include "cppdet/config/value.h"
#include "cppdet/engine/hook.h"
#include "cppdet/engine/optimizer.h"
#include "cppdet/engine/train_step.h"

namespace cppdet::engine {

// torch.cuda.amp.GradScaler's arguments.
struct LossScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

struct Fp16Options {
  LossScalerOptions scaler;
  std::optional<double> static_scale;  // loss_scale=<number>: update() resets to it
};

// Reads config `fp16`; rejects unknown keys and a loss_scale of another kind.
Fp16Options fp16_from_config(const config::Value& cfg, const std::string& path = "fp16");

// torch.cuda.amp.GradScaler on tensors of any device.
class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions options);
  double scale() const { return scale_; }
  torch::Tensor scale_loss(const torch::Tensor& loss) const { return loss * scale_; }
  // Divides every gradient of `params` by the scale; true when one of them holds inf or NaN.
  bool unscale(const std::vector<torch::Tensor>& params);
  // After a step: GradScaler.update(new_scale) with the overflow unscale() found.
  void update(bool found_inf, std::optional<double> new_scale = std::nullopt);
  // {scale, growth_factor, backoff_factor, growth_interval, _growth_tracker}, GradScaler's keys.
  config::Dict state_dict() const;
  void load_state_dict(const config::Dict& state, const std::string& where);

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
};

class Fp16OptimizerHook : public Hook {
 public:
  Fp16OptimizerHook(std::optional<GradClipOptions> grad_clip, Fp16Options fp16);
  std::string name() const override { return "Fp16OptimizerHook"; }
  Priority priority() const override { return Priority::AboveNormal; }
  void before_run(Runner& runner) override;
  void after_train_iter(Runner& runner) override;
  const LossScaler& scaler() const { return scaler_; }

 private:
  std::optional<GradClipOptions> grad_clip_;
  Fp16Options fp16_;
  LossScaler scaler_;
};

// `forward` run under CUDA autocast (mmcv's auto_fp16 of the model's forward).
ForwardTrain autocast_forward(ForwardTrain forward);

}  // namespace cppdet::engine
