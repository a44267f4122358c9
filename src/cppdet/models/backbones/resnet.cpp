#include "cppdet/models/backbones/resnet.h"

#include <ATen/Context.h>
#include <torch/nn/functional/pooling.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/distributed/process_group.h"
#include "cppdet/distributed/sync_batch_norm.h"
#include "cppdet/models/common/checkpoint.h"
#include "cppdet/models/precision/prepared_conv.h"
#include "cppdet/models/plugins/plugin_layer.h"
#include "cppdet/models/registries.h"

namespace cppdet::models {

// One residual block prepared for inference (each BatchNorm folded into its conv; activations in
// the form of the plan's precision, models/precision/activation.h). Outside the anonymous
// namespace: ResNet::PreparedPlan holds it.
struct ResNetPreparedBlock {
  using DenseFn = std::function<torch::Tensor(const torch::Tensor&)>;
  PrecisionMode mode = PrecisionMode::kFp32;
  bool mkldnn_layout = false;
  PreparedConv conv1, conv2, conv3;  // conv3 only in a Bottleneck; ReLU fused into conv1 (and a Bottleneck's conv2)
  std::optional<PreparedConv> downsample;
  bool bottleneck = false;
  ActivationPoint sum;  // the residual sum after its ReLU
  // Layers without a prepared kernel run on dense float tensors, the activation converted around
  // them (int8: quantized again at the point after them): a deformable conv2 with its BatchNorm
  // and ReLU (then `conv2` is unused), plugins after conv1/2/3.
  DenseFn dense_conv2;
  ActivationPoint dense_conv2_out;
  std::array<std::vector<DenseFn>, 3> plugins;
  std::array<ActivationPoint, 3> plugins_out;

  // x, result: the plan's activation form.
  torch::Tensor forward(const torch::Tensor& x) const {
    torch::Tensor out = dense(plugins[0], conv1(x), plugins_out[0]);
    out = dense_conv2 ? from_float(dense_conv2(to_float(out)), dense_conv2_out) : conv2(out);
    if (bottleneck) out = dense(plugins[2], conv3(dense(plugins[1], out, plugins_out[1])), plugins_out[2]);
    return add_activations(std::move(out), downsample ? (*downsample)(x) : x, /*relu=*/true, mode, sum);
  }

  torch::Tensor dense(const std::vector<DenseFn>& layers, const torch::Tensor& x, const ActivationPoint& out) const {
    if (layers.empty()) return x;
    torch::Tensor y = to_float(x);
    for (const DenseFn& layer : layers) y = layer(y);
    return from_float(y, out);
  }

  // A dense float activation in the plan's form.
  torch::Tensor from_float(const torch::Tensor& y, const ActivationPoint& point) const {
    switch (mode) {
      case PrecisionMode::kFp32: return mkldnn_layout ? y.to_mkldnn() : y;
      case PrecisionMode::kBf16: return mkldnn_layout ? y.to_mkldnn(torch::kBFloat16) : y.to(torch::kBFloat16);
      case PrecisionMode::kInt8: return point.quantize(y);
      case PrecisionMode::kCalibrate: return point.observe(y);
    }
    return y;
  }
};

// What preparing a block needs: the plan's precision, and a name for each layer.
struct ResNetPlanContext {
  InferencePrecision precision;
  bool mkldnn_layout = false;

  PreparedConv conv(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl* bn, const std::string& name,
                    bool relu) const {
    PreparedConvOptions o;
    o.relu = relu;
    o.mkldnn_layout = mkldnn_layout;
    return PreparedConv(conv_weights(conv, bn), precision, name, o);
  }
  ActivationPoint point(const std::string& name) const { return ActivationPoint(precision, name); }
  ResNetPreparedBlock block(const std::string& name) const {
    ResNetPreparedBlock b;
    b.mode = precision.mode;
    b.mkldnn_layout = mkldnn_layout;
    b.sum = point(name + ".add");
    return b;
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
  if (norm.type == "GN")
    seq->push_back(torch::nn::GroupNorm(torch::nn::GroupNormOptions(norm.num_groups, out).eps(norm.eps)));
  else
    seq->push_back(torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(out).eps(norm.eps).momentum(norm.momentum)));
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

std::optional<PreparedConv> prepare_downsample(const torch::nn::Sequential& downsample, const ResNetPlanContext& ctx,
                                               const std::string& name) {
  if (!downsample) return std::nullopt;
  auto [conv, bn] = downsample_parts(downsample);
  return ctx.conv(*conv, bn, name + ".0", false);
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

// What a stage adds to its blocks beyond the plain ResNet block (Bottleneck only, except with_cp).
struct BlockExtras {
  std::optional<DcnConfig> dcn;                     // deformable conv2
  std::vector<const ResNetPluginConfig*> plugins;  // this stage's plugins
  bool with_cp = false;
};

// fn(x), recomputed in backward under with_cp (mmdet checkpoints only when x requires grad).
torch::Tensor maybe_checkpoint(bool with_cp, const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                               const torch::Tensor& x) {
  return with_cp ? checkpoint(fn, x) : fn(x);
}

class BasicBlockImpl : public torch::nn::Module, public FusesConvBn {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 torch::nn::Sequential downsample, const NormConfig& norm, bool with_cp)
      : sync_bn_(norm.type == "SyncBN"), with_cp_(with_cp) {
    conv1_ = register_module("conv1", make_conv(inplanes, planes, 3, stride, dilation, dilation));
    norm1_ = NormLayer(*this, norm.abbr() + "1", norm, planes);
    conv2_ = register_module("conv2", make_conv(planes, planes, 3, 1, 1));
    norm2_ = NormLayer(*this, norm.abbr() + "2", norm, planes);
    if (downsample) downsample_ = register_module("downsample", downsample);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::relu(maybe_checkpoint(with_cp_, [this](const torch::Tensor& in) { return inner_forward(in); }, x));
  }
  int64_t fuse_conv_bn() override {
    return norm1_.fold_into(*this, *conv1_) + norm2_.fold_into(*this, *conv2_) + fuse_downsample(*this, downsample_);
  }
  ResNetPreparedBlock prepare(const ResNetPlanContext& ctx, const std::string& name) const {
    ResNetPreparedBlock b = ctx.block(name);
    b.conv1 = ctx.conv(*conv1_, norm1_.batch_norm(), name + ".conv1", /*relu=*/true);
    b.conv2 = ctx.conv(*conv2_, norm2_.batch_norm(), name + ".conv2", /*relu=*/false);
    b.downsample = prepare_downsample(downsample_, ctx, name + ".downsample");
    return b;
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  NormLayer norm1_, norm2_;
  torch::nn::Sequential downsample_{nullptr};
  bool sync_bn_;
  bool with_cp_;

  // The block before its final ReLU.
  torch::Tensor inner_forward(const torch::Tensor& x) {
    torch::Tensor out = torch::relu(norm1_.forward(conv1_->forward(x)));
    out = norm2_.forward(conv2_->forward(out));
    out += downsample_ ? downsample_forward(downsample_, x, sync_bn_) : x;
    return out;
  }
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public torch::nn::Module, public FusesConvBn {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                 torch::nn::Sequential downsample, const NormConfig& norm, bool caffe_style, const BlockExtras& extras)
      : sync_bn_(norm.type == "SyncBN"), with_cp_(extras.with_cp) {
    const int64_t conv1_stride = caffe_style ? stride : 1;
    const int64_t conv2_stride = caffe_style ? 1 : stride;
    conv1_ = register_module("conv1", make_conv(inplanes, planes, 1, conv1_stride, 0));
    norm1_ = NormLayer(*this, norm.abbr() + "1", norm, planes);
    if (extras.dcn) {
      DeformConvPackOptions o;
      o.in_channels = o.out_channels = planes;
      o.kernel_size = 3;
      o.stride = conv2_stride;
      o.padding = o.dilation = dilation;
      o.deform_groups = extras.dcn->deform_groups;
      o.modulated = extras.dcn->modulated;
      dcn2_ = register_module("conv2", DeformConvPack(o));
    } else {
      conv2_ = register_module("conv2", make_conv(planes, planes, 3, conv2_stride, dilation, dilation));
    }
    norm2_ = NormLayer(*this, norm.abbr() + "2", norm, planes);
    conv3_ = register_module("conv3", make_conv(planes, planes * kExpansion, 1, 1, 0));
    norm3_ = NormLayer(*this, norm.abbr() + "3", norm, planes * kExpansion);
    if (downsample) downsample_ = register_module("downsample", downsample);
    const std::array<std::pair<const char*, int64_t>, 3> positions{
        {{"after_conv1", planes}, {"after_conv2", planes}, {"after_conv3", planes * kExpansion}}};
    for (size_t i = 0; i < positions.size(); ++i)
      for (const ResNetPluginConfig* plugin : extras.plugins)
        if (plugin->position == positions[i].first) plugins_[i].push_back(add_plugin(*plugin, positions[i].second));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::relu(maybe_checkpoint(with_cp_, [this](const torch::Tensor& in) { return inner_forward(in); }, x));
  }
  int64_t fuse_conv_bn() override {
    // A deformable conv2 keeps its BatchNorm, as mmcv's fuse_conv_bn folds only into nn.Conv2d.
    return norm1_.fold_into(*this, *conv1_) + (conv2_ ? norm2_.fold_into(*this, *conv2_) : 0) +
           norm3_.fold_into(*this, *conv3_) + fuse_downsample(*this, downsample_);
  }
  ResNetPreparedBlock prepare(const ResNetPlanContext& ctx, const std::string& name) const {
    ResNetPreparedBlock b = ctx.block(name);
    b.conv1 = ctx.conv(*conv1_, norm1_.batch_norm(), name + ".conv1", /*relu=*/true);
    if (dcn2_) {
      b.dense_conv2 = dense_deform_conv2();
      b.dense_conv2_out = ctx.point(name + ".conv2.output");
    } else {
      b.conv2 = ctx.conv(*conv2_, norm2_.batch_norm(), name + ".conv2", /*relu=*/true);
    }
    b.conv3 = ctx.conv(*conv3_, norm3_.batch_norm(), name + ".conv3", /*relu=*/false);
    b.downsample = prepare_downsample(downsample_, ctx, name + ".downsample");
    b.bottleneck = true;
    for (size_t i = 0; i < plugins_.size(); ++i) {
      for (const std::shared_ptr<PluginLayer>& plugin : plugins_[i])
        b.plugins[i].push_back([plugin](const torch::Tensor& x) { return plugin->forward(x); });
      if (!plugins_[i].empty()) b.plugins_out[i] = ctx.point(name + ".after_conv" + std::to_string(i + 1) + ".output");
    }
    return b;
  }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  DeformConvPack dcn2_{nullptr};  // conv2 when deformable
  NormLayer norm1_, norm2_, norm3_;
  torch::nn::Sequential downsample_{nullptr};
  std::array<std::vector<std::shared_ptr<PluginLayer>>, 3> plugins_;  // after conv1, conv2, conv3
  bool sync_bn_;
  bool with_cp_;

  // mmcv's build_plugin_layer: the `postfix` key is not the layer's, the child name is its
  // abbreviation + postfix.
  std::shared_ptr<PluginLayer> add_plugin(const ResNetPluginConfig& plugin, int64_t channels) {
    config::Dict cfg = plugin.cfg.as_dict();
    std::string postfix;
    if (const config::Value* v = cfg.find("postfix")) {
      if (v->is_int())
        postfix = std::to_string(v->as_int());
      else if (v->is_string())
        postfix = v->as_string();
      else
        throw ConfigError(plugin.cfg_path + ".postfix: expected int or str, got " + v->brief());
      cfg.erase("postfix");
    }
    std::shared_ptr<PluginLayer> layer = plugin_registry().build(config::Value(cfg), plugin.cfg_path, channels);
    const std::string name = layer->abbr() + postfix;
    for (const auto& child : named_children())
      if (child.key() == name) throw ConfigError(plugin.cfg_path + ": duplicate plugin '" + name + "' in one block");
    return register_module(name, layer);
  }

  torch::Tensor run_plugins(size_t position, torch::Tensor x) {
    for (const std::shared_ptr<PluginLayer>& plugin : plugins_[position]) x = plugin->forward(x);
    return x;
  }

  // The block before its final ReLU.
  torch::Tensor inner_forward(const torch::Tensor& x) {
    torch::Tensor out = run_plugins(0, torch::relu(norm1_.forward(conv1_->forward(x))));
    out = norm2_.forward(dcn2_ ? dcn2_->forward(out) : conv2_->forward(out));
    out = run_plugins(1, torch::relu(out));
    out = run_plugins(2, norm3_.forward(conv3_->forward(out)));
    out += downsample_ ? downsample_forward(downsample_, x, sync_bn_) : x;
    return out;
  }

  // The deformable conv2, its eval-mode BatchNorm as a per-channel scale and shift (copied now,
  // like the prepared weights) and its ReLU, on dense float tensors.
  ResNetPreparedBlock::DenseFn dense_deform_conv2() const {
    const std::shared_ptr<DeformConvPackImpl> dcn = dcn2_.ptr();
    const torch::nn::BatchNorm2dImpl* bn = norm2_.batch_norm();  // set_inference_precision refuses GN
    if (!bn) throw UserError("prepared inference: the deformable conv2 has no BatchNorm after it");
    const torch::Tensor scale = (bn->weight / torch::sqrt(bn->running_var + bn->options.eps())).view({1, -1, 1, 1});
    const torch::Tensor shift = bn->bias.view({1, -1, 1, 1}) - bn->running_mean.view({1, -1, 1, 1}) * scale;
    return [dcn, scale, shift](const torch::Tensor& x) { return dcn->forward(x).mul_(scale).add_(shift).relu_(); };
  }
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

// A list/tuple of bools, one per stage.
std::vector<bool> read_stage_flags(const config::Value& v, const std::string& path) {
  if (!v.is_sequence()) throw ConfigError(path + ": expected a list of bools, got " + v.brief());
  std::vector<bool> flags;
  for (const config::Value& item : v.as_sequence()) {
    if (!item.is_bool()) throw ConfigError(path + ": expected a list of bools, got " + v.brief());
    flags.push_back(item.as_bool());
  }
  return flags;
}

}  // namespace

struct ResNet::PreparedPlan {
  PrecisionMode mode = PrecisionMode::kFp32;
  PreparedConv stem;  // conv1 + bn1 + ReLU
  std::vector<std::vector<ResNetPreparedBlock>> layers;
};

ResNetPluginConfig ResNetPluginConfig::from_config(const config::Value& cfg, const std::string& path, int64_t num_stages) {
  config::ConfigReader r(cfg, path);
  ResNetPluginConfig p;
  p.cfg = r.get("cfg");
  p.cfg_path = r.path_of("cfg");
  if (!p.cfg.is_dict()) throw ConfigError(p.cfg_path + ": expected a dict with 'type', got " + p.cfg.brief());
  if (const config::Value* v = r.get_optional("stages")) {
    p.stages = read_stage_flags(*v, r.path_of("stages"));
    if (static_cast<int64_t>(p.stages.size()) != num_stages)
      throw ConfigError(r.path_of("stages") + ": needs num_stages (" + std::to_string(num_stages) + ") entries");
  }
  p.position = r.get_string("position");
  if (p.position != "after_conv1" && p.position != "after_conv2" && p.position != "after_conv3")
    throw ConfigError(r.path_of("position") + ": expected 'after_conv1', 'after_conv2' or 'after_conv3', got '" + p.position + "'");
  r.finish();
  return p;
}

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
  if (const config::Value* v = r.get_optional("dcn")) o.dcn = DcnConfig::from_config(*v, r.path_of("dcn"));
  if (const config::Value* v = r.get_optional("stage_with_dcn")) o.stage_with_dcn = read_stage_flags(*v, r.path_of("stage_with_dcn"));
  if (o.dcn && static_cast<int64_t>(o.stage_with_dcn.size()) != o.num_stages)
    throw ConfigError(r.path_of("stage_with_dcn") + ": needs num_stages (" + std::to_string(o.num_stages) + ") entries");
  if (const config::Value* v = r.get_optional("plugins")) {
    if (!v->is_sequence()) throw ConfigError(r.path_of("plugins") + ": expected a list of dicts, got " + v->brief());
    for (size_t i = 0; i < v->as_sequence().size(); ++i)
      o.plugins.push_back(ResNetPluginConfig::from_config(v->as_sequence()[i], r.path_of("plugins") + "[" + std::to_string(i) + "]",
                                                          o.num_stages));
  }
  if (!arch_settings().at(o.depth).bottleneck) {
    bool dcn_stage = false;
    for (int64_t i = 0; i < o.num_stages; ++i) dcn_stage = dcn_stage || (o.dcn && o.stage_with_dcn[i]);
    if (dcn_stage) throw ConfigError(r.path_of("dcn") + ": deformable conv needs Bottleneck blocks (depth 50+), as in mmdet");
    if (!o.plugins.empty()) throw ConfigError(r.path_of("plugins") + ": plugins need Bottleneck blocks (depth 50+), as in mmdet");
  }
  o.with_cp = r.get_bool("with_cp", false);
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
  // mmdet's Bottleneck pops fallback_on_stride from the dcn dict that every block shares, so only
  // the first DCN block built sees it (and takes a plain conv2 when it is true).
  bool fallback_pending = options_.dcn && options_.dcn->fallback_on_stride;
  for (int64_t i = 0; i < options_.num_stages; ++i) {
    const int64_t planes = options_.base_channels << i;
    const int64_t stride = options_.strides[i], dilation = options_.dilations[i];
    BlockExtras stage_extras;
    stage_extras.with_cp = options_.with_cp;
    for (const ResNetPluginConfig& p : options_.plugins)
      if (p.stages.empty() || p.stages[i]) stage_extras.plugins.push_back(&p);
    torch::nn::Sequential layer;
    for (int64_t b = 0; b < arch.blocks[i]; ++b) {
      BlockExtras extras = stage_extras;
      if (options_.dcn && options_.stage_with_dcn[i]) {
        if (fallback_pending)
          fallback_pending = false;
        else
          extras.dcn = options_.dcn;
      }
      const int64_t block_in = b == 0 ? inplanes : planes * expansion;
      const int64_t block_stride = b == 0 ? stride : 1;
      torch::nn::Sequential downsample{nullptr};
      if (b == 0 && (stride != 1 || inplanes != planes * expansion))
        downsample = make_downsample(inplanes, planes * expansion, stride, norm);
      if (arch.bottleneck)
        layer->push_back(Bottleneck(block_in, planes, block_stride, dilation, downsample, norm, options_.style == "caffe", extras));
      else
        layer->push_back(BasicBlock(block_in, planes, block_stride, dilation, downsample, norm, options_.with_cp));
    }
    inplanes = planes * expansion;
    stage_channels_.push_back(inplanes);
    layers_.push_back(register_module("layer" + std::to_string(i + 1), layer));
  }
  train(false);
}

std::vector<torch::Tensor> ResNet::forward(const torch::Tensor& x) {
  if (x.scalar_type() == torch::kFloat && prepared_.applies(*this, *this, x)) return forward_prepared(x);
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

std::vector<torch::Tensor> ResNet::forward_prepared(const torch::Tensor& x) const {
  const PreparedPlan& plan = *plan_;
  torch::Tensor y = plan.mode == PrecisionMode::kFp32   ? x.contiguous().to_mkldnn()
                    : plan.mode == PrecisionMode::kBf16 ? x.contiguous().to_mkldnn(torch::kBFloat16)
                                                        : x;  // int8: the stem quantizes it
  y = torch::max_pool2d(plan.stem(y), {3, 3}, {2, 2}, {1, 1}, {1, 1});  // 2-d sizes: the quantized kernel takes no others
  std::vector<torch::Tensor> outs;
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    for (const ResNetPreparedBlock& block : plan.layers[i]) y = block.forward(y);
    if (is_out_index(i)) outs.push_back(y.is_mkldnn() ? y.to_dense() : y);
  }
  return outs;
}

bool ResNet::set_inference_precision(const InferencePrecision& precision, const std::string& path) {
  plan_.reset();
  const bool reduced = precision.mode != PrecisionMode::kFp32;
  if (reduced && options_.norm_cfg.type == "GN")
    throw UserError((path.empty() ? std::string("ResNet") : path) + " (ResNet with GroupNorm): " +
                    mode_name(precision.mode) + " needs BatchNorm, which it folds into the convolutions; use fp32");
  const bool usable = !is_training() && conv1_->weight.device().is_cpu() && conv1_->weight.scalar_type() == torch::kFloat &&
                      (reduced ? (precision.mode == PrecisionMode::kInt8 || at::hasMKLDNN())
                               : precision.mkldnn && at::hasMKLDNN() && options_.norm_cfg.type != "GN");
  if (!usable) {
    prepared_.set(false, precision, path, *this);
    return false;
  }
  ResNetPlanContext ctx;
  ctx.precision = precision;
  ctx.mkldnn_layout = precision.mode == PrecisionMode::kFp32 || precision.mode == PrecisionMode::kBf16;
  auto plan = std::make_shared<PreparedPlan>();
  plan->mode = precision.mode;
  plan->stem = ctx.conv(*conv1_, norm1_.batch_norm(), child_path(path, "conv1"), /*relu=*/true);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string layer_path = child_path(path, "layer" + std::to_string(i + 1));
    std::vector<ResNetPreparedBlock> blocks;
    for (size_t b = 0; b < layers_[i]->size(); ++b) {
      const std::string name = layer_path + "." + std::to_string(b);
      if (const auto* bottleneck = layers_[i]->ptr(b)->as<Bottleneck>())
        blocks.push_back(bottleneck->prepare(ctx, name));
      else
        blocks.push_back(layers_[i]->ptr(b)->as<BasicBlock>()->prepare(ctx, name));
    }
    plan->layers.push_back(std::move(blocks));
  }
  plan_ = std::move(plan);
  prepared_.set(true, precision, path, *this);
  return true;
}

int64_t ResNet::fuse_conv_bn() {
  // A prepared plan is made again on the next forward (the conv's weights change).
  return norm1_.fold_into(*this, *conv1_) ? 1 : 0;
}

std::vector<int64_t> ResNet::out_channels() const {
  std::vector<int64_t> out;
  for (int64_t i : options_.out_indices) out.push_back(stage_channels_[i]);
  return out;
}

void ResNet::train(bool on) {
  torch::nn::Module::train(on);
  if (on) {
    plan_.reset();
    prepared_.reset();
  }
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
