#include "cppdet/models/dense_heads/retina_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

namespace {

config::Value default_retina_anchor_generator() {
  config::Dict d;
  d.set("type", "AnchorGenerator");
  d.set("octave_base_scale", 4);
  d.set("scales_per_octave", 3);
  d.set("ratios", config::Value::list({0.5, 1.0, 2.0}));
  d.set("strides", config::Value::list({8, 16, 32, 64, 128}));
  return d;
}

}  // namespace

RetinaHeadOptions RetinaHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                                 const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  RetinaHeadOptions o;
  o.head = AnchorHeadOptions::read(r, head_cfgs, default_retina_anchor_generator());
  o.head.num_classes = r.get_int("num_classes");
  o.stacked_convs = r.get_int("stacked_convs", 4);
  o.norm_cfg = NormConfig::from_config(r.get_optional("norm_cfg"), r.path_of("norm_cfg"));
  if (const config::Value* v = r.get_optional("conv_cfg")) {
    (void)v;
    throw ConfigError(r.path_of("conv_cfg") + ": only the default Conv2d is supported");
  }
  r.finish();
  return o;
}

RetinaHead::RetinaHead(const RetinaHeadOptions& o) : AnchorHead(o.head) {
  cls_convs_ = register_module("cls_convs", torch::nn::ModuleList());
  reg_convs_ = register_module("reg_convs", torch::nn::ModuleList());
  const int64_t feat = options_.feat_channels;
  for (int64_t i = 0; i < o.stacked_convs; ++i) {
    const int64_t chn = i == 0 ? options_.in_channels : feat;
    cls_convs_->push_back(ConvModule(ConvModuleOptions{chn, feat, 3, 1, 1, 1, o.norm_cfg, true}));
    reg_convs_->push_back(ConvModule(ConvModuleOptions{chn, feat, 3, 1, 1, 1, o.norm_cfg, true}));
  }
  retina_cls_ = register_module(
      "retina_cls", torch::nn::Conv2d(torch::nn::Conv2dOptions(feat, num_base_priors_ * cls_out_channels_, 3).padding(1)));
  retina_reg_ = register_module("retina_reg", torch::nn::Conv2d(torch::nn::Conv2dOptions(feat, num_base_priors_ * 4, 3).padding(1)));
}

DenseHeadOutputs RetinaHead::forward(const std::vector<torch::Tensor>& feats) {
  DenseHeadOutputs out;
  for (const torch::Tensor& x : feats) {
    torch::Tensor cls_feat = x, reg_feat = x;
    for (const auto& m : *cls_convs_) cls_feat = m->as<ConvModuleImpl>()->forward(cls_feat);
    for (const auto& m : *reg_convs_) reg_feat = m->as<ConvModuleImpl>()->forward(reg_feat);
    out.cls_scores.push_back(retina_cls_->forward(cls_feat));
    out.bbox_preds.push_back(retina_reg_->forward(reg_feat));
  }
  return out;
}

}  // namespace cppdet::models
