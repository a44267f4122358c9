#pragma once
// One training step's losses, as mmdet's BaseDetector.train_step returns them.
//
// A model's forward_train gives ordered (name, tensor) log vars: loss_rpn_cls, loss_rpn_bbox,
// loss_cls, acc, loss_bbox, loss_mask, ... parse_losses (mmdet's _parse_losses) takes each
// tensor's mean, adds the terms whose name contains "loss" in order into `loss`, and appends
// "loss" to the logged values.
#include <torch/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/core/error.h"
#include "cppdet/structures/det_sample.h"

namespace cppdet::distributed {
class ProcessGroup;
}

namespace cppdet::engine {

using LogVars = std::vector<std::pair<std::string, torch::Tensor>>;

// The training forward of a model: losses of one batch, with autograd history.
using ForwardTrain = std::function<LogVars(const DetBatch&)>;

struct StepOutputs {
  torch::Tensor loss;                                  // scalar, what backward() runs on
  std::vector<std::pair<std::string, double>> log_vars;  // each term's mean, then "loss"
  int64_t num_samples = 0;                             // images in the batch
};

StepOutputs parse_losses(const LogVars& log_vars, int64_t num_samples);

// The distributed part of mmdet's _parse_losses: every rank must log the same number of
// values (else DistributedError with this rank's names), and each logged value becomes the
// mean over the ranks (`loss` itself, what backward runs on, stays this rank's).
void reduce_log_vars(StepOutputs& outputs, distributed::ProcessGroup& group);

// A loss term (or the total) that is NaN or infinite; the message names the epoch, the
// iteration and the term.
class NonFiniteLossError : public UserError {
 public:
  using UserError::UserError;
};

// Throws NonFiniteLossError for the first non-finite value in `outputs.log_vars`;
// `where` describes the iteration ("epoch 2, iter 17/50 (global iteration 67)").
void check_finite(const StepOutputs& outputs, const std::string& where);

}  // namespace cppdet::engine
