#include "cppdet/models/dense_heads/fcos_head.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/common/scale.h"
#include "cppdet/models/dense_heads/conv_tower.h"
#include "cppdet/models/task/bbox_coder.h"
#include "cppdet/models/task/point_generator.h"

namespace cppdet::models {

using torch::indexing::Slice;

namespace {

config::Value fcos_default_loss(const char* type) {
  config::Dict d;
  d.set("type", type);
  if (std::string(type) == "FocalLoss") {
    d.set("use_sigmoid", true);
    d.set("gamma", 2.0);
    d.set("alpha", 0.25);
  } else if (std::string(type) == "CrossEntropyLoss") {
    d.set("use_sigmoid", true);
  }
  d.set("loss_weight", 1.0);
  return d;
}

// A loss / coder config: the given dict or mmdet's default.
config::Value dict_or(config::ConfigReader& r, const char* key, config::Value fallback) {
  return r.has(key) ? r.get(key) : std::move(fallback);
}

}  // namespace

FCOSHeadOptions FCOSHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                             const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  FCOSHeadOptions o;
  o.num_classes = r.get_int("num_classes");
  o.in_channels = r.get_int("in_channels");
  o.feat_channels = r.get_int("feat_channels", 256);
  o.stacked_convs = r.get_int("stacked_convs", 4);
  o.strides = r.get_numbers("strides", o.strides);
  if (const config::Value* v = r.get_optional("regress_ranges")) o.regress_ranges = read_number_pairs(*v, r.path_of("regress_ranges"));
  if (o.regress_ranges.size() != o.strides.size())
    throw ConfigError(r.path_of("regress_ranges") + ": needs one (min, max) per stride (" +
                      std::to_string(o.strides.size()) + "), got " + std::to_string(o.regress_ranges.size()));
  o.center_sampling = r.get_bool("center_sampling", false);
  o.center_sample_radius = r.get_number("center_sample_radius", 1.5);
  o.norm_on_bbox = r.get_bool("norm_on_bbox", false);
  o.centerness_on_reg = r.get_bool("centerness_on_reg", false);
  if (const config::Value* v = r.get_optional("conv_bias")) {
    if (v->is_bool()) o.conv_bias = v->as_bool();
    else if (!(v->is_string() && v->as_string() == "auto"))
      throw ConfigError(r.path_of("conv_bias") + ": expected 'auto', True or False, got " + v->brief());
  }
  if (r.get_bool("dcn_on_last_conv", false))
    throw ConfigError(r.path_of("dcn_on_last_conv") + ": deformable convolution is not supported");
  o.norm_cfg = read_tower_norm_cfg(r);
  o.loss_cls = dict_or(r, "loss_cls", fcos_default_loss("FocalLoss"));
  o.loss_cls_path = r.path_of("loss_cls");
  if (!o.loss_cls.is_dict()) throw ConfigError(o.loss_cls_path + ": expected a dict, got " + o.loss_cls.brief());
  const config::Value* sigmoid = o.loss_cls.as_dict().find("use_sigmoid");
  o.use_sigmoid_cls = sigmoid && sigmoid->is_bool() && sigmoid->as_bool();
  o.loss_bbox = dict_or(r, "loss_bbox", fcos_default_loss("IoULoss"));
  o.loss_bbox_path = r.path_of("loss_bbox");
  o.loss_centerness = dict_or(r, "loss_centerness", fcos_default_loss("CrossEntropyLoss"));
  o.loss_centerness_path = r.path_of("loss_centerness");
  config::Dict coder;
  coder.set("type", "DistancePointBBoxCoder");
  o.bbox_coder = dict_or(r, "bbox_coder", coder);
  o.bbox_coder_path = r.path_of("bbox_coder");
  r.ignore({"init_cfg", "train_cfg", "test_cfg"});
  r.finish();
  if (!head_cfgs.test_cfg.is_none()) o.test_cfg = DenseTestConfig::from_config(head_cfgs.test_cfg, head_cfgs.test_cfg_path);
  return o;
}

FCOSHead::FCOSHead(FCOSHeadOptions options) : options_(std::move(options)) {
  cls_out_channels_ = options_.use_sigmoid_cls ? options_.num_classes : options_.num_classes + 1;
  PointGeneratorOptions points;
  for (double s : options_.strides) points.strides.emplace_back(s, s);
  prior_generator_ = std::make_shared<MlvlPointGenerator>(points);
  bbox_coder_ = bbox_coder_registry().build(options_.bbox_coder, options_.bbox_coder_path);
  const int64_t feat = options_.feat_channels;
  cls_convs_ = register_module("cls_convs", make_conv_tower(options_.in_channels, feat, options_.stacked_convs,
                                                            options_.norm_cfg, options_.conv_bias));
  reg_convs_ = register_module("reg_convs", make_conv_tower(options_.in_channels, feat, options_.stacked_convs,
                                                            options_.norm_cfg, options_.conv_bias));
  auto conv3x3 = [](int64_t in, int64_t out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)); };
  conv_cls_ = register_module("conv_cls", conv3x3(feat, cls_out_channels_));
  conv_reg_ = register_module("conv_reg", conv3x3(feat, 4));
  conv_centerness_ = register_module("conv_centerness", conv3x3(feat, 1));
  scales_ = register_module("scales", torch::nn::ModuleList());
  for (size_t i = 0; i < options_.strides.size(); ++i) scales_->push_back(Scale(1.0));
}

DenseHeadOutputs FCOSHead::forward(const std::vector<torch::Tensor>& feats) {
  TORCH_CHECK(feats.size() == options_.strides.size(), "FCOSHead: ", feats.size(), " feature maps for ",
              options_.strides.size(), " strides");
  DenseHeadOutputs out;
  for (size_t l = 0; l < feats.size(); ++l) {
    const torch::Tensor cls_feat = run_conv_tower(cls_convs_, feats[l]);
    const torch::Tensor reg_feat = run_conv_tower(reg_convs_, feats[l]);
    out.cls_scores.push_back(conv_cls_->forward(cls_feat));
    out.score_factors.push_back(conv_centerness_->forward(options_.centerness_on_reg ? reg_feat : cls_feat));
    torch::Tensor bbox_pred = scales_[l]->as<ScaleImpl>()->forward(conv_reg_->forward(reg_feat)).to(torch::kFloat32);
    if (options_.norm_on_bbox) {
      bbox_pred = bbox_pred.clamp_min(0);
      if (!is_training()) bbox_pred = bbox_pred * options_.strides[l];
    } else {
      bbox_pred = bbox_pred.exp();
    }
    out.bbox_preds.push_back(bbox_pred);
  }
  return out;
}

std::vector<Detections> FCOSHead::get_bboxes(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                             bool rescale) {
  if (!options_.test_cfg) throw ConfigError("model.test_cfg: missing the test settings of this dense head");
  const DenseTestConfig& cfg = *options_.test_cfg;
  std::vector<FeatSize> sizes;
  for (const torch::Tensor& s : outputs.cls_scores) sizes.emplace_back(s.size(2), s.size(3));
  const torch::Tensor& first = outputs.cls_scores.at(0);
  const std::vector<torch::Tensor> points = prior_generator_->grid_priors(sizes, first.scalar_type(), first.device());
  std::vector<Detections> out;
  for (size_t i = 0; i < metas.size(); ++i) {
    const ImageSize img_shape{metas[i].img_shape[0], metas[i].img_shape[1]};
    std::vector<torch::Tensor> mlvl_bboxes, mlvl_scores, mlvl_labels, mlvl_factors;
    for (size_t l = 0; l < points.size(); ++l) {
      const torch::Tensor bbox_pred = outputs.bbox_preds[l][i].detach().permute({1, 2, 0}).reshape({-1, 4});
      const torch::Tensor factor = outputs.score_factors[l][i].detach().permute({1, 2, 0}).reshape({-1}).sigmoid();
      const torch::Tensor logits = outputs.cls_scores[l][i].detach().permute({1, 2, 0}).reshape({-1, cls_out_channels_});
      const torch::Tensor scores = options_.use_sigmoid_cls
                                       ? logits.sigmoid()
                                       : logits.softmax(-1).index({Slice(), Slice(0, options_.num_classes)});
      const LevelCandidates c = filter_scores_and_topk(scores, cfg.score_thr, cfg.nms_pre);
      mlvl_bboxes.push_back(bbox_coder_->decode(points[l].index_select(0, c.keep_idxs),
                                                bbox_pred.index_select(0, c.keep_idxs), img_shape));
      mlvl_scores.push_back(c.scores);
      mlvl_labels.push_back(c.labels);
      mlvl_factors.push_back(factor.index_select(0, c.keep_idxs));
    }
    out.push_back(bbox_post_process(mlvl_bboxes, mlvl_scores, mlvl_labels, mlvl_factors, metas[i], cfg, rescale));
  }
  return out;
}

}  // namespace cppdet::models
