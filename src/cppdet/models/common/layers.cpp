#include "cppdet/models/common/layers.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/distributed/process_group.h"
#include "cppdet/distributed/sync_batch_norm.h"

namespace cppdet::models {

std::optional<NormConfig> NormConfig::from_config(const config::Value* node, const std::string& path) {
  if (!node || node->is_none()) return std::nullopt;
  config::ConfigReader r(*node, path);
  NormConfig cfg;
  cfg.type = r.get_string("type");
  if (cfg.type != "BN" && cfg.type != "SyncBN" && cfg.type != "GN" && cfg.type != "BN2d")
    throw ConfigError(path + ".type: unsupported norm layer '" + cfg.type + "'; known: BN, BN2d, SyncBN, GN");
  cfg.requires_grad = r.get_bool("requires_grad", true);
  cfg.eps = r.get_number("eps", 1e-5);
  cfg.momentum = r.get_number("momentum", 0.1);
  if (cfg.type == "GN") cfg.num_groups = r.get_int("num_groups");
  r.finish();
  return cfg;
}

NormLayer::NormLayer(torch::nn::Module& parent, const std::string& name, const NormConfig& cfg,
                     int64_t channels)
    : name_(name), sync_(cfg.type == "SyncBN") {
  if (cfg.type == "GN") {
    gn_ = parent.register_module(name, torch::nn::GroupNorm(
        torch::nn::GroupNormOptions(cfg.num_groups, channels).eps(cfg.eps)));
  } else {
    bn_ = parent.register_module(name, torch::nn::BatchNorm2d(
        torch::nn::BatchNormOptions(channels).eps(cfg.eps).momentum(cfg.momentum)));
  }
  if (!cfg.requires_grad) {
    torch::nn::Module& m = bn_ ? static_cast<torch::nn::Module&>(*bn_) : static_cast<torch::nn::Module&>(*gn_);
    for (auto& p : m.parameters()) p.set_requires_grad(false);
  }
}

torch::Tensor NormLayer::forward(const torch::Tensor& x) {
  if (bn_) return sync_ ? distributed::sync_batch_norm(x, *bn_, distributed::default_group()) : bn_->forward(x);
  return gn_ ? gn_->forward(x) : x;
}

bool NormLayer::fold_into(torch::nn::Module& parent, torch::nn::Conv2dImpl& conv) {
  if (!bn_ || bn_->is_training()) return false;
  fold_batch_norm_into(conv, *bn_);
  parent.unregister_module(name_);
  bn_ = torch::nn::BatchNorm2d(nullptr);
  return true;
}

ConvModuleImpl::ConvModuleImpl(const ConvModuleOptions& o) : ConvModuleImpl(o, !o.norm.has_value()) {}

ConvModuleImpl::ConvModuleImpl(const ConvModuleOptions& o, bool bias) : relu_(o.relu) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, o.out_channels, o.kernel_size)
                                                       .stride(o.stride)
                                                       .padding(o.padding)
                                                       .dilation(o.dilation)
                                                       .bias(bias)));
  if (o.norm) norm_ = NormLayer(*this, o.norm->abbr(), *o.norm, o.out_channels);
}

torch::Tensor ConvModuleImpl::forward(const torch::Tensor& x) {
  if (prepared_.applies(*this, *this, x)) return prepared_conv_(x);
  torch::Tensor y = conv->forward(x);
  if (norm_) y = norm_.forward(y);
  if (relu_) y = torch::relu(y);
  return y;
}

bool ConvModuleImpl::set_inference_precision(const InferencePrecision& precision, const std::string& path) {
  prepared_conv_ = PreparedConv();
  const bool prepare = precision.mode != PrecisionMode::kFp32 && !is_training();
  if (prepare) {
    if (norm_ && !norm_.is_batch_norm())
      throw UserError(path + " (ConvModule with GroupNorm): " + std::string(mode_name(precision.mode)) +
                      " needs BatchNorm or no norm; use fp32");
    PreparedConvOptions o;
    o.relu = relu_;
    prepared_conv_ = PreparedConv(conv_weights(*conv, norm_.batch_norm()), precision, child_path(path, "conv"), o);
  }
  prepared_.set(prepare, precision, path, *this);
  return prepare;
}

bool read_relu_act_cfg(const config::Value* node, const std::string& path, bool fallback) {
  if (!node) return fallback;
  if (node->is_none()) return false;
  config::ConfigReader r(*node, path);
  const std::string type = r.get_string("type");
  if (type != "ReLU") throw ConfigError(path + ".type: unsupported activation '" + type + "'; known: ReLU");
  r.ignore({"inplace"});
  r.finish();
  return true;
}

}  // namespace cppdet::models
