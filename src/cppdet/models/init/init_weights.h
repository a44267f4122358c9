#pragma once
// Training-from-scratch initialisation of a detector, as mmdet 2.x's init_weights() does it
// with no pretrained checkpoint (each module's default init_cfg):
//   backbone convs        Kaiming normal (fan_out, relu), bias 0; norms weight 1, bias 0;
//                         zero_init_residual (default true): last norm of each residual block 0
//   neck convs            Xavier uniform, bias 0
//   dense-head convs      normal std 0.01, bias 0 (RetinaNet's retina_cls bias: prior 0.01)
//   bbox head             shared fcs Xavier uniform, fc_cls normal 0.01, fc_reg normal 0.001
//   mask head             convs, upsample and conv_logits Kaiming normal (fan_out, relu), bias 0
//   then every module with an init_weights of its own in mmcv (InitsOwnWeights below), parents
//   first, as mmcv's BaseModule calls its children's init_weights after its own init_cfg
// Random draws come from LibTorch's global generator (seed it first with torch::manual_seed).
#include <torch/nn/module.h>

#include "cppdet/config/value.h"

namespace cppdet::models {

// Implemented by modules whose mmcv class defines init_weights() (ModulatedDeformConv2dPack,
// GeneralizedAttention): init_weights() runs it after the default pass above, which it overrides.
class InitsOwnWeights {
 public:
  virtual ~InitsOwnWeights() = default;
  virtual void init_own_weights() = 0;
};

// `model_cfg` is the config's `model` dict (read for backbone.zero_init_residual).
void init_weights(torch::nn::Module& model, const config::Value& model_cfg);

}  // namespace cppdet::models
