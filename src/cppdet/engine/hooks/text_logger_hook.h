#pragma once
// mmcv's TextLoggerHook (priority VERY_LOW): every `interval` iterations prints the averaged
// log buffer as
//   Epoch [1][50/7330]\tlr: 1.998e-03, eta: 1 day, 2:03:04, time: 0.391, data_time: 0.009,
//   memory: 0, loss_rpn_cls: 0.1059, ..., loss: 1.0037
// ("Iter [50/90000]\t..." for iteration-based runs), and after evaluation
//   Epoch(val) [1][500]\tbbox_mAP: 0.3740, ..., bbox_mAP_copypaste: 0.374 0.581 ...
// It appends the same records to <timestamp>.log.json, one JSON object per line (keys mode,
// epoch, iter, lr, memory, data_time, <losses>, loss, [grad_norm], time; floats rounded to 5
// decimals), after a first line holding the runner meta (env_info, config, seed, exp_name).
// memory is the peak CUDA memory in MiB and 0 on the CPU; the last partial interval of an
// epoch is not logged (ignore_last). Distributed: rank 0 logs (the values are already averaged
// over the ranks).
#include <string>

#include "cppdet/engine/hook.h"

namespace cppdet::engine {

struct TextLoggerOptions {
  int64_t interval = 50;
  bool ignore_last = true;
  bool by_epoch = true;
  int64_t interval_exp_name = 1000;
  std::string json_path;  // "" = no JSON log
};

class TextLoggerHook : public Hook {
 public:
  explicit TextLoggerHook(TextLoggerOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "TextLoggerHook"; }
  Priority priority() const override { return Priority::VeryLow; }

  void before_run(Runner& runner) override;
  void before_train_epoch(Runner& runner) override;
  void after_train_iter(Runner& runner) override;
  void after_train_epoch(Runner& runner) override;

 private:
  void log(Runner& runner);
  void append_json(const std::string& line);

  TextLoggerOptions options_;
  int64_t start_iter_ = 0;
  double time_sec_tot_ = 0.0;
};

// Python's str(datetime.timedelta(seconds=s)) for whole seconds: "0:00:12", "1 day, 16:24:41".
std::string format_eta(int64_t seconds);
// Python's repr(round(v, 5)) as json.dumps writes it: 0.002, 2e-05, 1.0.
std::string json_rounded_float(double v);

}  // namespace cppdet::engine
