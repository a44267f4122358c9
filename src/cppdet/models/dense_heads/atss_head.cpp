#include "cppdet/models/dense_heads/atss_head.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/common/scale.h"
#include "cppdet/models/dense_heads/atss_targets.h"
#include "cppdet/models/dense_heads/conv_tower.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/task/atss_assigner.h"

namespace cppdet::models {

torch::Tensor anchor_centers(const torch::Tensor& anchors) {
  return torch::stack({(anchors.select(1, 2) + anchors.select(1, 0)) / 2, (anchors.select(1, 3) + anchors.select(1, 1)) / 2},
                      -1);
}

torch::Tensor atss_centerness_target(const torch::Tensor& anchors, const torch::Tensor& gts) {
  const torch::Tensor c = anchor_centers(anchors);
  const torch::Tensor cx = c.select(1, 0), cy = c.select(1, 1);
  const torch::Tensor lr = torch::stack({cx - gts.select(1, 0), gts.select(1, 2) - cx}, 1);
  const torch::Tensor tb = torch::stack({cy - gts.select(1, 1), gts.select(1, 3) - cy}, 1);
  return ((std::get<0>(lr.min(-1)) / std::get<0>(lr.max(-1))) * (std::get<0>(tb.min(-1)) / std::get<0>(tb.max(-1)))).sqrt();
}

ATSSHeadOptions ATSSHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                             const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  ATSSHeadOptions o;
  const bool has_reg_decoded = r.has("reg_decoded_bbox");
  o.head = AnchorHeadOptions::read(r, head_cfgs, anchor_head_default_generator());
  if (!has_reg_decoded) o.head.reg_decoded_bbox = true;  // ATSSHead's default
  o.head.num_classes = r.get_int("num_classes");
  o.stacked_convs = r.get_int("stacked_convs", 4);
  o.pred_kernel_size = r.get_int("pred_kernel_size", 3);
  if (o.pred_kernel_size < 1 || o.pred_kernel_size % 2 == 0)
    throw ConfigError(r.path_of("pred_kernel_size") + ": must be a positive odd number");
  o.norm_cfg = read_tower_norm_cfg(r);
  if (r.has("loss_centerness")) {
    o.loss_centerness = r.get("loss_centerness");
  } else {
    config::Dict d;
    d.set("type", "CrossEntropyLoss");
    d.set("use_sigmoid", true);
    d.set("loss_weight", 1.0);
    o.loss_centerness = d;
  }
  o.loss_centerness_path = r.path_of("loss_centerness");
  r.finish();
  return o;
}

ATSSHead::ATSSHead(const ATSSHeadOptions& o) : AnchorHead(o.head), atss_options_(o) {
  const int64_t feat = options_.feat_channels;
  cls_convs_ = register_module("cls_convs", make_conv_tower(options_.in_channels, feat, o.stacked_convs, o.norm_cfg));
  reg_convs_ = register_module("reg_convs", make_conv_tower(options_.in_channels, feat, o.stacked_convs, o.norm_cfg));
  auto pred = [&](int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(feat, out, o.pred_kernel_size).padding(o.pred_kernel_size / 2));
  };
  atss_cls_ = register_module("atss_cls", pred(num_base_priors_ * cls_out_channels_));
  atss_reg_ = register_module("atss_reg", pred(num_base_priors_ * 4));
  atss_centerness_ = register_module("atss_centerness", pred(num_base_priors_));
  scales_ = register_module("scales", torch::nn::ModuleList());
  for (int64_t i = 0; i < prior_generator_->num_levels(); ++i) scales_->push_back(Scale(1.0));
}

DenseHeadOutputs ATSSHead::forward(const std::vector<torch::Tensor>& feats) {
  TORCH_CHECK(static_cast<int64_t>(feats.size()) == prior_generator_->num_levels(), "ATSSHead: ", feats.size(),
              " feature maps for ", prior_generator_->num_levels(), " levels");
  DenseHeadOutputs out;
  for (size_t l = 0; l < feats.size(); ++l) {
    const torch::Tensor cls_feat = run_conv_tower(cls_convs_, feats[l]);
    const torch::Tensor reg_feat = run_conv_tower(reg_convs_, feats[l]);
    out.cls_scores.push_back(atss_cls_->forward(cls_feat));
    out.bbox_preds.push_back(scales_[l]->as<ScaleImpl>()->forward(atss_reg_->forward(reg_feat)).to(torch::kFloat32));
    out.score_factors.push_back(atss_centerness_->forward(reg_feat));
  }
  return out;
}

LossTerms ATSSHead::loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                         const std::vector<GtInstances>& gts, DebugTrace* trace) {
  prepare_training();
  if (!loss_centerness_) loss_centerness_ = loss_registry().build(atss_options_.loss_centerness, atss_options_.loss_centerness_path);
  const auto* assigner = dynamic_cast<const ATSSAssigner*>(train_->assigner.get());
  if (!assigner) throw ConfigError(options_.train_cfg_path + ".assigner: ATSSHead needs type='ATSSAssigner'");
  std::vector<FeatSize> sizes;
  for (const torch::Tensor& s : outputs.cls_scores) sizes.emplace_back(s.size(2), s.size(3));
  const torch::Device device = outputs.cls_scores.at(0).device();
  AtssTargetSettings settings;
  settings.assigner = assigner;
  settings.coder = options_.reg_decoded_bbox ? nullptr : bbox_coder_.get();
  settings.allowed_border = train_->allowed_border;
  settings.pos_weight = train_->pos_weight;
  settings.num_classes = options_.num_classes;
  const AtssTargets t = atss_targets(prior_generator_->grid_priors(sizes, torch::kFloat32, device), sizes,
                                     *prior_generator_, metas, gts, settings, trace);

  std::vector<torch::Tensor> losses_cls, losses_bbox, losses_centerness;
  torch::Tensor bbox_avg_factor;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const torch::Tensor cls_score = outputs.cls_scores[l].permute({0, 2, 3, 1}).reshape({-1, cls_out_channels_});
    const torch::Tensor bbox_pred = outputs.bbox_preds[l].permute({0, 2, 3, 1}).reshape({-1, 4});
    const torch::Tensor centerness = outputs.score_factors[l].permute({0, 2, 3, 1}).reshape({-1});
    const torch::Tensor& labels = t.labels[l];
    losses_cls.push_back((*loss_cls_)(cls_score, labels, t.label_weights[l], t.num_total_samples));
    const torch::Tensor pos_inds = torch::nonzero((labels >= 0) & (labels < options_.num_classes)).squeeze(1);
    torch::Tensor centerness_sum;
    if (pos_inds.numel() > 0) {
      const torch::Tensor pos_anchors = t.anchors[l].index_select(0, pos_inds);
      const torch::Tensor pos_targets = t.bbox_targets[l].index_select(0, pos_inds);
      const torch::Tensor centerness_targets = atss_centerness_target(pos_anchors, pos_targets);
      const torch::Tensor pos_decoded = bbox_coder_->decode(pos_anchors, bbox_pred.index_select(0, pos_inds));
      losses_bbox.push_back((*loss_bbox_)(pos_decoded, pos_targets, centerness_targets, 1.0));
      losses_centerness.push_back(
          (*loss_centerness_)(centerness.index_select(0, pos_inds), centerness_targets, {}, t.num_total_samples));
      centerness_sum = centerness_targets.sum();
    } else {
      losses_bbox.push_back(bbox_pred.sum() * 0);
      losses_centerness.push_back(centerness.sum() * 0);
      centerness_sum = torch::zeros({}, bbox_pred.options());
    }
    bbox_avg_factor = bbox_avg_factor.defined() ? bbox_avg_factor + centerness_sum : centerness_sum;
  }
  const double avg = bbox_avg_factor.detach().clamp_min(1).item<double>();
  torch::Tensor loss_cls, loss_bbox, loss_centerness;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const torch::Tensor b = (losses_bbox[l] / avg).mean();
    loss_cls = loss_cls.defined() ? loss_cls + losses_cls[l].mean() : losses_cls[l].mean();
    loss_bbox = loss_bbox.defined() ? loss_bbox + b : b;
    loss_centerness = loss_centerness.defined() ? loss_centerness + losses_centerness[l].mean() : losses_centerness[l].mean();
  }
  return {{"loss_cls", loss_cls}, {"loss_bbox", loss_bbox}, {"loss_centerness", loss_centerness}};
}

}  // namespace cppdet::models
