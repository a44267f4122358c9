#pragma once
// mmcv's building blocks with their state_dict names: build_norm_layer (BN / SyncBN -> "bn",
// GN -> "gn", + postfix) and ConvModule (conv -> norm -> ReLU, children "conv" and "bn"/"gn").
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include <optional>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/common/fuse_conv_bn.h"
#include "cppdet/models/precision/inference_precision.h"
#include "cppdet/models/precision/prepared_conv.h"

namespace cppdet::models {

// norm_cfg: dict(type='BN'|'SyncBN'|'GN', requires_grad=True, eps=1e-5, momentum=0.1,
// num_groups=... for GN). SyncBN has BN's parameters and buffers; in training mode in a
// distributed run its batch statistics are those of all ranks (distributed/sync_batch_norm.h),
// otherwise (eval mode, one process) it is BN.
struct NormConfig {
  std::string type = "BN";
  bool requires_grad = true;
  double eps = 1e-5;
  double momentum = 0.1;
  int64_t num_groups = 0;  // GN only

  // nullopt when the node is None/absent.
  static std::optional<NormConfig> from_config(const config::Value* node, const std::string& path);
  std::string abbr() const { return type == "GN" ? "gn" : "bn"; }
};

// One normalisation layer registered in `parent` under `name`. After fold_into it is gone and
// forward returns its input.
class NormLayer {
 public:
  NormLayer() = default;
  NormLayer(torch::nn::Module& parent, const std::string& name, const NormConfig& cfg, int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  bool is_batch_norm() const { return !bn_.is_empty(); }
  // The BatchNorm, or null for GN, no norm or a folded one.
  const torch::nn::BatchNorm2dImpl* batch_norm() const { return bn_.is_empty() ? nullptr : bn_.get(); }
  explicit operator bool() const { return !bn_.is_empty() || !gn_.is_empty(); }
  // Folds a BatchNorm into `conv`, the convolution before it, and unregisters it from `parent`
  // (fuse_conv_bn.h). Returns false, changing nothing, for GN, no norm or a BatchNorm in
  // training mode (its batch statistics are not fixed).
  bool fold_into(torch::nn::Module& parent, torch::nn::Conv2dImpl& conv);

 private:
  std::string name_;
  bool sync_ = false;  // SyncBN
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::GroupNorm gn_{nullptr};
};

struct ConvModuleOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  std::optional<NormConfig> norm;  // none: conv has a bias ("auto" bias)
  bool relu = true;                // act_cfg=dict(type='ReLU') vs act_cfg=None
};

// mmcv ConvModule with order (conv, norm, act).
class ConvModuleImpl : public torch::nn::Module, public FusesConvBn, public PrecisionAware {
 public:
  explicit ConvModuleImpl(const ConvModuleOptions& options);
  // With an explicit conv bias (mmcv's bias=True/False instead of 'auto').
  ConvModuleImpl(const ConvModuleOptions& options, bool bias);
  // x: [N, C, H, W]; on the prepared path any activation form (models/precision/activation.h),
  // and the result is in the precision's form.
  torch::Tensor forward(const torch::Tensor& x);
  int64_t fuse_conv_bn() override { return norm_.fold_into(*this, *conv) ? 1 : 0; }
  // bf16 / int8 / calibration: conv + folded BatchNorm + ReLU as one PreparedConv ("<path>.conv");
  // fp32: the plain layers. GroupNorm: UserError for bf16 / int8.
  bool set_inference_precision(const InferencePrecision& precision, const std::string& path) override;

  torch::nn::Conv2d conv{nullptr};

 private:
  NormLayer norm_;
  bool relu_;
  PreparedConv prepared_conv_;
  PreparedState prepared_;
};
TORCH_MODULE(ConvModule);

// act_cfg: None -> no activation; dict(type='ReLU') -> ReLU; other types are rejected.
bool read_relu_act_cfg(const config::Value* node, const std::string& path, bool fallback);

}  // namespace cppdet::models
