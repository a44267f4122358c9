#pragma once
// AugFPN (Guo et al., "AugFPN: Improving Multi-scale Feature Learning for Object Detection",
// CVPR 2020): FPN with the paper's Residual Feature Augmentation (RFA) on the top level. This
// is the neck of MMDetection's "customized model" tutorial (MMDetection itself has no AugFPN
// class), shipped as a cppdet plugin: libaugfpn.so, loaded by a config's
//   custom_imports = dict(imports=['augfpn'], allow_failed_imports=False)
//   model = dict(neck=dict(type='AugFPN', in_channels=[256, 512, 1024, 2048], out_channels=256,
//                          num_outs=5, pool_ratios=[0.1, 0.2, 0.3]))
//
// What it computes. Let C_T be the top backbone level that FPN uses (inputs[end] with end =
// the last input, or end_level), [N, in_channels[end], H, W], and K = len(pool_ratios).
//   1. Ratio-invariant adaptive pooling, for each ratio r_k:
//        B_k = upsample_bilinear(conv1x1_k(adaptive_avg_pool2d(C_T, (h_k, w_k))), (H, W))
//      with h_k = max(1, floor(r_k * H)), w_k = max(1, floor(r_k * W)), conv1x1_k
//      in_channels[end] -> out_channels with bias, bilinear with align_corners=False.
//                                                                  B_k: [N, out_channels, H, W]
//   2. Adaptive spatial fusion: per-pixel weights for the K branches,
//        W = sigmoid(conv3x3(relu(conv1x1(concat(B_1, ..., B_K)))))  [N, K, H, W]
//      (conv1x1: K * out_channels -> out_channels, conv3x3: out_channels -> K, padding 1,
//      both with bias), and M = sum_k W[:, k] * B_k.                [N, out_channels, H, W]
//   3. FPN (models/necks/fpn.h, every FPN option accepted) with M added to the top lateral
//      feature before the top-down pathway: lateral_T = lateral_conv_T(C_T) + M. The output
//      convs and extra levels are FPN's.
// The paper's other two parts (consistent supervision, soft RoI selection) belong to the
// heads and are not part of this neck.
//
// Parameters (state_dict keys under the detector's `neck.`): FPN's lateral_convs.* and
// fpn_convs.*, rfa_pool_convs.<k>.{weight,bias} (the 1x1 convs of step 1) and
// rfa_fusion.0.{weight,bias} / rfa_fusion.2.{weight,bias} (the 1x1 and 3x3 convs of step 2).
// From-scratch training initialises them as every neck conv: Xavier uniform, bias 0.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/necks/fpn.h"

namespace augfpn {

struct AugFPNOptions {
  cppdet::models::FPNOptions fpn;
  std::vector<double> pool_ratios = {0.1, 0.2, 0.3};  // each in (0, 1]

  // Reads pool_ratios and hands the other keys to FPN's reader (unknown keys are errors
  // naming their path, e.g. "model.neck.pool_ratio: unknown key").
  static AugFPNOptions from_config(const cppdet::config::Value& cfg, const std::string& path);
};

class AugFPN : public cppdet::models::FPN {
 public:
  explicit AugFPN(const AugFPNOptions& options);
  // inputs: the backbone levels [N, in_channels[i], H_i, W_i]; returns num_outs levels
  // [N, out_channels, H_j, W_j], as FPN.
  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& inputs) override;

  // Step 1 and 2 above on the top level: M, [N, out_channels, H, W].
  torch::Tensor residual_feature_augmentation(const torch::Tensor& top);

 private:
  std::vector<double> pool_ratios_;
  torch::nn::ModuleList rfa_pool_convs_{nullptr};
  torch::nn::Sequential rfa_fusion_{nullptr};
};

}  // namespace augfpn
