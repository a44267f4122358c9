#include "cppdet/models/backbones/resnet.h"

#include <c10/core/GradMode.h>
#include <torch/nn/functional/pooling.h>

#include <algorithm>
#include <map>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/distributed/process_group.h"
#include "cppdet/distributed/sync_batch_norm.h"
#include "cppdet/models/common/mkldnn_conv.h"

namespace cppdet::models {

// One residual block prepared for MKL-DNN inference (each BatchNorm folded into its conv).
// Outside the anonymous namespace: ResNet::MkldnnPlan holds it.
struct ResNetMkldnnBlock {
  MkldnnConv conv1, conv2, conv3;  // conv3 only in a Bottleneck
  std::optional<MkldnnConv> downsample;
  bool bottleneck = false;

  // x, result: MKL-DNN layout.
  torch::Tensor forward(const torch::Tensor& x) const {
    torch::Tensor out = conv1(x).relu_();
    out = conv2(out);
    if (bottleneck) out = conv3(out.relu_());
    out.add_(downsample ? (*downsample)(x) : x);
    return out.relu_();
  }
};

namespace {

torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding,
                            int64_t dilation = 1) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(padding).dilation(dilation).bias(false));
}

// The 1x1 conv + norm shortcut of a stage's first block ("downsample.0", "downsample.1").
torch::nn::Sequential make_downsample(int64_t in, int64_t out, int64_t stride, const NormConfig& norm) {
  torch::nn::Sequential seq;
  seq->push_back(make_conv(in, out, 1, stride, 0));
  const auto bn_options = torch::nn::BatchNormOptions(out).eps(norm.eps).momentum(norm.momentum);
  if (norm.type == "GN")
    seq->push_back(torch::nn::GroupNorm(torch::nn::GroupNormOptions(norm.num_groups, out).eps(norm.eps)));
  else
    seq->push_back(torch::nn::BatchNorm2d(bn_options));
  if (!norm.requires_grad)
    for (auto& p : seq[1]->parameters()) p.set_requires_grad(false);
  return seq;
}

// The shortcut of a block: its Sequential, or with SyncBN (`sync`) the conv followed by the
// synchronised batch normalisation of its BatchNorm.
torch::Tensor downsample_forward(torch::nn::Sequential downsample, const torch::Tensor& x, bool sync) {
  if (!sync || downsample->size() < 2) return downsample->forward(x);
  auto* conv = downsample->ptr(0)->as<torch::nn::Conv2d>();
  auto* bn = downsample->ptr(1)->as<torch::nn::BatchNorm2d>();
  return distributed::sync_batch_norm(conv->forward(x), *bn, distributed::default_group());
}

// The shortcut's conv and its BatchNorm (null when folded already); GN is rejected.
std::pair<torch::nn::Conv2dImpl*, torch::nn::BatchNorm2dImpl*> downsample_parts(const torch::nn::Sequential& downsample) {
  auto* conv = downsample->ptr(0)->as<torch::nn::Conv2d>();
  auto* bn = downsample->size() > 1 ? downsample->ptr(1)->as<torch::nn::BatchNorm2d>() : nullptr;
  if (downsample->size() > 1 && !bn) throw UserError("only a BatchNorm shortcut can be folded into its conv");
  return {conv, bn};
}

std::optional<MkldnnConv> prepare_downsample(const torch::nn::Sequential& downsample) {
  if (!downsample) return std::nullopt;
  auto [conv, bn] = downsample_parts(downsample);
  return MkldnnConv(*conv, bn);
}

// Folds the shortcut's BatchNorm into its conv: "downsample" becomes the conv alone.
int64_t fuse_downsample(torch::nn::Module& block, torch::nn::Sequential& downsample) {
  if (!downsample) return 0;
  auto [conv, bn] = downsample_parts(downsample);
  if (!bn || bn->is_training()) return 0;
  fold_batch_norm_into(*conv, *bn);
  torch::nn::Sequential conv_only;
  conv_only->push_back(torch::nn::Conv2d(std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(downsample->ptr(0))));
  downsample = torch::nn::Sequential(block.replace_module("downsample", conv_only.ptr()));
  return 1;
}

class BasicBlockImpl : public torch::nn::Module, public FusesConvBn {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 torch::nn::Sequential downsample, const NormConfig& norm)
      : sync_bn_(norm.type == "SyncBN") {
    conv1_ = register_module("conv1", make_conv(inplanes, planes, 3, stride, dilation, dilation));
    norm1_ = NormLayer(*this, norm.abbr() + "1", norm, planes);
    conv2_ = register_module("conv2", make_conv(planes, planes, 3, 1, 1));
    norm2_ = NormLayer(*this, norm.abbr() + "2", norm, planes);
    if (downsample) downsample_ = register_module("downsample", downsample);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = torch::relu(norm1_.forward(conv1_->forward(x)));
    out = norm2_.forward(conv2_->forward(out));
    out += downsample_ ? downsample_forward(downsample_, x, sync_bn_) : x;
    return torch::relu(out);
  }
  int64_t fuse_conv_bn() override {
    return norm1_.fold_into(*this, *conv1_) + norm2_.fold_into(*this, *conv2_) + fuse_downsample(*this, downsample_);
  }
  ResNetMkldnnBlock prepare_mkldnn() const {
    ResNetMkldnnBlock b;
    b.conv1 = MkldnnConv(*conv1_, norm1_.batch_norm());
    b.conv2 = MkldnnConv(*conv2_, norm2_.batch_norm());
    b.downsample = prepare_downsample(downsample_);
    return b;
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  NormLayer norm1_, norm2_;
  torch::nn::Sequential downsample_{nullptr};
  bool sync_bn_;
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public torch::nn::Module, public FusesConvBn {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 torch::nn::Sequential downsample, const NormConfig& norm, bool caffe_style)
      : sync_bn_(norm.type == "SyncBN") {
    const int64_t conv1_stride = caffe_style ? stride : 1;
    const int64_t conv2_stride = caffe_style ? 1 : stride;
    conv1_ = register_module("conv1", make_conv(inplanes, planes, 1, conv1_stride, 0));
    norm1_ = NormLayer(*this, norm.abbr() + "1", norm, planes);
    conv2_ = register_module("conv2", make_conv(planes, planes, 3, conv2_stride, dilation, dilation));
    norm2_ = NormLayer(*this, norm.abbr() + "2", norm, planes);
    conv3_ = register_module("conv3", make_conv(planes, planes * kExpansion, 1, 1, 0));
    norm3_ = NormLayer(*this, norm.abbr() + "3", norm, planes * kExpansion);
    if (downsample) downsample_ = register_module("downsample", downsample);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = torch::relu(norm1_.forward(conv1_->forward(x)));
    out = torch::relu(norm2_.forward(conv2_->forward(out)));
    out = norm3_.forward(conv3_->forward(out));
    out += downsample_ ? downsample_forward(downsample_, x, sync_bn_) : x;
    return torch::relu(out);
  }
  int64_t fuse_conv_bn() override {
    return norm1_.fold_into(*this, *conv1_) + norm2_.fold_into(*this, *conv2_) + norm3_.fold_into(*this, *conv3_) +
           fuse_downsample(*this, downsample_);
  }
  ResNetMkldnnBlock prepare_mkldnn() const {
    ResNetMkldnnBlock b;
    b.conv1 = MkldnnConv(*conv1_, norm1_.batch_norm());
    b.conv2 = MkldnnConv(*conv2_, norm2_.batch_norm());
    b.conv3 = MkldnnConv(*conv3_, norm3_.batch_norm());
    b.downsample = prepare_downsample(downsample_);
    b.bottleneck = true;
    return b;
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  NormLayer norm1_, norm2_, norm3_;
  torch::nn::Sequential downsample_{nullptr};
  bool sync_bn_;
};
TORCH_MODULE(Bottleneck);

struct ArchSetting {
  bool bottleneck;
  std::vector<int64_t> blocks;
};

const std::map<int64_t, ArchSetting>& arch_settings() {
  static const std::map<int64_t, ArchSetting> settings{
      {18, {false, {2, 2, 2, 2}}},  {34, {false, {3, 4, 6, 3}}},  {50, {true, {3, 4, 6, 3}}},
      {101, {true, {3, 4, 23, 3}}}, {152, {true, {3, 8, 36, 3}}}};
  return settings;
}

void set_module_frozen(torch::nn::Module& m) {
  m.eval();
  for (auto& p : m.parameters()) p.set_requires_grad(false);
}

}  // namespace

struct ResNet::MkldnnPlan {
  MkldnnConv stem;
  std::vector<std::vector<ResNetMkldnnBlock>> layers;
};

ResNetOptions ResNetOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  ResNetOptions o;
  o.depth = r.get_int("depth");
  if (!arch_settings().count(o.depth))
    throw ConfigError(r.path_of("depth") + ": invalid depth " + std::to_string(o.depth) + " for ResNet; known: 18, 34, 50, 101, 152");
  o.in_channels = r.get_int("in_channels", 3);
  if (r.get_optional("stem_channels")) o.stem_channels = r.get_int("stem_channels");
  o.base_channels = r.get_int("base_channels", 64);
  o.num_stages = r.get_int("num_stages", 4);
  if (o.num_stages < 1 || o.num_stages > 4) throw ConfigError(r.path_of("num_stages") + ": must be in [1, 4]");
  o.strides = r.get_ints("strides", o.strides);
  o.dilations = r.get_ints("dilations", o.dilations);
  if (static_cast<int64_t>(o.strides.size()) != o.num_stages || static_cast<int64_t>(o.dilations.size()) != o.num_stages)
    throw ConfigError(path + ": strides and dilations need num_stages (" + std::to_string(o.num_stages) + ") entries");
  o.out_indices = r.get_ints("out_indices", o.out_indices);
  for (int64_t i : o.out_indices)
    if (i < 0 || i >= o.num_stages) throw ConfigError(r.path_of("out_indices") + ": index " + std::to_string(i) + " out of range");
  o.style = r.get_string("style", "pytorch");
  if (o.style != "pytorch" && o.style != "caffe")
    throw ConfigError(r.path_of("style") + ": expected 'pytorch' or 'caffe', got '" + o.style + "'");
  if (r.get_bool("deep_stem", false)) throw ConfigError(r.path_of("deep_stem") + ": deep_stem=True is not supported");
  if (r.get_bool("avg_down", false)) throw ConfigError(r.path_of("avg_down") + ": avg_down=True is not supported");
  o.frozen_stages = r.get_int("frozen_stages", -1);
  if (const config::Value* norm = r.get_optional("norm_cfg")) o.norm_cfg = *NormConfig::from_config(norm, r.path_of("norm_cfg"));
  o.norm_eval = r.get_bool("norm_eval", true);
  if (const config::Value* v = r.get_optional("conv_cfg")) {
    config::ConfigReader c(*v, r.path_of("conv_cfg"));
    if (c.get_string("type") != "Conv2d" && c.get_string("type") != "Conv")
      throw ConfigError(c.path_of("type") + ": only Conv2d is supported");
    c.finish();
  }
  if (r.get_optional("dcn")) throw ConfigError(r.path_of("dcn") + ": deformable convolution is not supported");
  if (r.get_optional("plugins")) throw ConfigError(r.path_of("plugins") + ": plugins are not supported");
  if (const config::Value* v = r.get_optional("stage_with_dcn")) (void)v;
  r.get_bool("with_cp", false);  // gradient checkpointing changes memory only
  o.zero_init_residual = r.get_bool("zero_init_residual", true);
  if (const config::Value* v = r.get_optional("init_cfg")) o.init_cfg = *v;
  if (const config::Value* v = r.get_optional("pretrained")) o.init_cfg = *v;
  r.finish();
  return o;
}

ResNet::ResNet(ResNetOptions options) : options_(std::move(options)) {
  const ArchSetting& arch = arch_settings().at(options_.depth);
  const int64_t stem = options_.stem_channels.value_or(options_.base_channels);
  const NormConfig& norm = options_.norm_cfg;
  conv1_ = register_module("conv1", make_conv(options_.in_channels, stem, 7, 2, 3));
  norm1_ = NormLayer(*this, norm.abbr() + "1", norm, stem);
  const int64_t expansion = arch.bottleneck ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
  int64_t inplanes = stem;
  for (int64_t i = 0; i < options_.num_stages; ++i) {
    const int64_t planes = options_.base_channels << i;
    const int64_t stride = options_.strides[i], dilation = options_.dilations[i];
    torch::nn::Sequential layer;
    for (int64_t b = 0; b < arch.blocks[i]; ++b) {
      const int64_t block_in = b == 0 ? inplanes : planes * expansion;
      const int64_t block_stride = b == 0 ? stride : 1;
      torch::nn::Sequential downsample{nullptr};
      if (b == 0 && (stride != 1 || inplanes != planes * expansion))
        downsample = make_downsample(inplanes, planes * expansion, stride, norm);
      if (arch.bottleneck)
        layer->push_back(Bottleneck(block_in, planes, block_stride, dilation, downsample, norm, options_.style == "caffe"));
      else
        layer->push_back(BasicBlock(block_in, planes, block_stride, dilation, downsample, norm));
    }
    inplanes = planes * expansion;
    stage_channels_.push_back(inplanes);
    layers_.push_back(register_module("layer" + std::to_string(i + 1), layer));
  }
  train(false);
}

std::vector<torch::Tensor> ResNet::forward(const torch::Tensor& x) {
  if (mkldnn_plan_ && !is_training() && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
      !c10::GradMode::is_enabled()) {
    if (mkldnn_weights_ != weights_fingerprint()) set_mkldnn_inference(true);  // weights changed: copy them again
    if (mkldnn_plan_) return forward_mkldnn(x);
  }
  torch::Tensor y = torch::relu(norm1_.forward(conv1_->forward(x)));
  y = torch::max_pool2d(y, 3, 2, 1);
  std::vector<torch::Tensor> outs;
  for (size_t i = 0; i < layers_.size(); ++i) {
    y = layers_[i]->forward(y);
    if (is_out_index(i)) outs.push_back(y);
  }
  return outs;
}

bool ResNet::is_out_index(size_t stage) const {
  return std::find(options_.out_indices.begin(), options_.out_indices.end(), static_cast<int64_t>(stage)) !=
         options_.out_indices.end();
}

std::vector<torch::Tensor> ResNet::forward_mkldnn(const torch::Tensor& x) const {
  torch::Tensor y = mkldnn_plan_->stem(x.contiguous().to_mkldnn()).relu_();
  y = torch::max_pool2d(y, 3, 2, 1);
  std::vector<torch::Tensor> outs;
  for (size_t i = 0; i < mkldnn_plan_->layers.size(); ++i) {
    for (const ResNetMkldnnBlock& block : mkldnn_plan_->layers[i]) y = block.forward(y);
    if (is_out_index(i)) outs.push_back(y.to_dense());
  }
  return outs;
}

bool ResNet::set_mkldnn_inference(bool on) {
  mkldnn_plan_.reset();
  if (!on || is_training() || !mkldnn_available() || options_.norm_cfg.type == "GN" ||
      !conv1_->weight.device().is_cpu() || conv1_->weight.scalar_type() != torch::kFloat)
    return false;
  auto plan = std::make_shared<MkldnnPlan>();
  plan->stem = MkldnnConv(*conv1_, norm1_.batch_norm());
  for (const torch::nn::Sequential& layer : layers_) {
    std::vector<ResNetMkldnnBlock> blocks;
    for (size_t b = 0; b < layer->size(); ++b) {
      if (const auto* bottleneck = layer->ptr(b)->as<Bottleneck>())
        blocks.push_back(bottleneck->prepare_mkldnn());
      else
        blocks.push_back(layer->ptr(b)->as<BasicBlock>()->prepare_mkldnn());
    }
    plan->layers.push_back(std::move(blocks));
  }
  mkldnn_plan_ = std::move(plan);
  mkldnn_weights_ = weights_fingerprint();
  return true;
}

int64_t ResNet::weights_fingerprint() const {
  int64_t fingerprint = 0;
  for (const std::vector<torch::Tensor>& tensors : {parameters(), buffers()})
    for (const torch::Tensor& t : tensors)
      fingerprint += static_cast<int64_t>(t._version()) + static_cast<int64_t>(reinterpret_cast<intptr_t>(t.data_ptr()));
  return fingerprint;
}

int64_t ResNet::fuse_conv_bn() {
  // A MKL-DNN plan stays valid: it holds the folded weights already.
  return norm1_.fold_into(*this, *conv1_) ? 1 : 0;
}

std::vector<int64_t> ResNet::out_channels() const {
  std::vector<int64_t> out;
  for (int64_t i : options_.out_indices) out.push_back(stage_channels_[i]);
  return out;
}

void ResNet::train(bool on) {
  torch::nn::Module::train(on);
  if (on) mkldnn_plan_.reset();
  if (options_.frozen_stages >= 0) {
    set_module_frozen(*conv1_);
    for (const auto& child : named_children())
      if (child.key() == options_.norm_cfg.abbr() + "1") set_module_frozen(*child.value());
    for (int64_t i = 1; i <= options_.frozen_stages && i <= static_cast<int64_t>(layers_.size()); ++i)
      set_module_frozen(*layers_[i - 1]);
  }
  if (on && options_.norm_eval) {
    for (const auto& m : modules(/*include_self=*/false))
      if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) m->eval();
  }
}

}  // namespace cppdet::models
