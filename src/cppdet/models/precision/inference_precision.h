#pragma once
// Putting a model's layers on a prepared CPU inference path in one precision (activation.h,
// docs/inference.md "Precision"). apis::init_detector does this on "cpu": fp32 is the MKL-DNN
// backbone path (the ResNet folds each BatchNorm into its conv and keeps activations in oneDNN's
// blocked layout), bf16 and int8 prepare the convolutions and linears of the backbone, neck and
// heads as well.
//
// Prepared layers are copies of the weights, made when the precision is set and again on the
// first forward after the module's weights change (load_state_dict, in-place edits, moves).
// They are used only in eval mode, on the CPU, without autograd, so training, CUDA and gradient
// computations always run the plain modules; train(true) drops them.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "cppdet/models/precision/activation.h"

namespace cppdet::models {

// Implemented by modules that own convolutions or linears with a prepared path.
class PrecisionAware {
 public:
  virtual ~PrecisionAware() = default;
  // Prepares this module's own layers (not those of PrecisionAware submodules) for `precision`;
  // `path` is the module's state_dict prefix ("" for the root), naming its activation points.
  // Returns whether a prepared path is now active (false: the plain modules run, e.g. kFp32 for
  // all but the ResNet). Throws UserError when the module cannot run in that precision.
  virtual bool set_inference_precision(const InferencePrecision& precision, const std::string& path) = 0;
};

// What a PrecisionAware module keeps to decide, at each forward, whether to take its prepared
// path and whether to prepare it again first.
class PreparedState {
 public:
  // Records a newly prepared path (`active` false: cleared).
  void set(bool active, const InferencePrecision& precision, std::string path, const torch::nn::Module& owner);
  void reset() { active_ = false; }
  bool active() const { return active_; }
  // Whether owner's forward takes the prepared path for input x: active, owner in eval mode, x on
  // the CPU, autograd off. Prepares it again first when owner's weights changed since.
  bool applies(torch::nn::Module& owner, PrecisionAware& self, const torch::Tensor& x);
  const InferencePrecision& precision() const { return precision_; }
  const std::string& path() const { return path_; }

 private:
  bool active_ = false;
  InferencePrecision precision_;
  std::string path_;
  int64_t fingerprint_ = 0;
};

// A module's parameters and buffers' identity: changes when any is modified in place (its version
// counter) or replaced (its storage).
int64_t weights_fingerprint(const torch::nn::Module& module);

// "<path>.<name>" ("name" for the root path "").
std::string child_path(const std::string& path, const std::string& name);

// Sets `precision` on every PrecisionAware module of `model` (a Detector, a backbone, ...);
// returns how many have a prepared path afterwards. kInt8 selects LibTorch's oneDNN quantized
// engine (UserError when this LibTorch has none).
int64_t set_inference_precision(torch::nn::Module& model, const InferencePrecision& precision);

// The fp32 MKL-DNN path on or off for every module of `model` (off: plain modules); returns how
// many modules use it afterwards (0 when off, in training mode, off the CPU, or without MKL-DNN).
int64_t set_mkldnn_inference(torch::nn::Module& model, bool on);

}  // namespace cppdet::models
