#include "cppdet/models/dense_heads/gfl_head.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/common/scale.h"
#include "cppdet/models/dense_heads/atss_head.h"
#include "cppdet/models/dense_heads/atss_targets.h"
#include "cppdet/models/dense_heads/conv_tower.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/task/anchor_generator.h"
#include "cppdet/models/task/atss_assigner.h"
#include "cppdet/models/task/distance_point_coder.h"
#include "cppdet/ops/bbox_overlaps.h"

namespace cppdet::models {

IntegralImpl::IntegralImpl(int64_t reg_max) : reg_max_(reg_max) {
  project = register_buffer("project", torch::linspace(0, static_cast<double>(reg_max), reg_max + 1));
}

torch::Tensor IntegralImpl::forward(const torch::Tensor& x) {
  const torch::Tensor p = torch::softmax(x.reshape({-1, reg_max_ + 1}), 1);
  return torch::linear(p, project.to(p.scalar_type())).reshape({-1, 4});
}

GFLHeadOptions GFLHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                           const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  GFLHeadOptions o;
  const bool has_coder = r.has("bbox_coder");
  o.head = AnchorHeadOptions::read(r, head_cfgs, anchor_head_default_generator());
  if (!has_coder) {
    config::Dict coder;
    coder.set("type", "DistancePointBBoxCoder");
    o.head.bbox_coder = coder;
  }
  o.head.num_classes = r.get_int("num_classes");
  o.stacked_convs = r.get_int("stacked_convs", 4);
  o.reg_max = r.get_int("reg_max", 16);
  if (o.reg_max < 1) throw ConfigError(r.path_of("reg_max") + ": must be >= 1");
  o.norm_cfg = read_tower_norm_cfg(r);
  if (r.has("loss_dfl")) {
    o.loss_dfl = r.get("loss_dfl");
  } else {
    config::Dict d;
    d.set("type", "DistributionFocalLoss");
    d.set("loss_weight", 0.25);
    o.loss_dfl = d;
  }
  o.loss_dfl_path = r.path_of("loss_dfl");
  r.finish();
  return o;
}

GFLHead::GFLHead(const GFLHeadOptions& o) : AnchorHead(o.head), gfl_options_(o) {
  if (num_base_priors_ != 1)
    throw ConfigError(options_.anchor_generator_path + ": GFLHead needs one anchor per position, got " +
                      std::to_string(num_base_priors_));
  const auto* anchors = dynamic_cast<const AnchorGenerator*>(prior_generator_.get());
  if (!anchors) throw ConfigError(options_.anchor_generator_path + ": GFLHead needs type='AnchorGenerator'");
  for (const auto& [sw, sh] : anchors->options().strides) {
    if (sw != sh) throw ConfigError(options_.anchor_generator_path + ".strides: GFLHead needs square strides");
    strides_.push_back(sw);
  }
  if (!dynamic_cast<const DistancePointBBoxCoder*>(bbox_coder_.get()))
    throw ConfigError(options_.bbox_coder_path + ": GFLHead needs type='DistancePointBBoxCoder'");
  const int64_t feat = options_.feat_channels;
  cls_convs_ = register_module("cls_convs", make_conv_tower(options_.in_channels, feat, o.stacked_convs, o.norm_cfg));
  reg_convs_ = register_module("reg_convs", make_conv_tower(options_.in_channels, feat, o.stacked_convs, o.norm_cfg));
  auto conv3x3 = [](int64_t in, int64_t out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)); };
  gfl_cls_ = register_module("gfl_cls", conv3x3(feat, cls_out_channels_));
  gfl_reg_ = register_module("gfl_reg", conv3x3(feat, 4 * (o.reg_max + 1)));
  scales_ = register_module("scales", torch::nn::ModuleList());
  for (size_t i = 0; i < strides_.size(); ++i) scales_->push_back(Scale(1.0));
  integral_ = register_module("integral", Integral(o.reg_max));
}

DenseHeadOutputs GFLHead::forward(const std::vector<torch::Tensor>& feats) {
  TORCH_CHECK(feats.size() == strides_.size(), "GFLHead: ", feats.size(), " feature maps for ", strides_.size(), " levels");
  DenseHeadOutputs out;
  for (size_t l = 0; l < feats.size(); ++l) {
    out.cls_scores.push_back(gfl_cls_->forward(run_conv_tower(cls_convs_, feats[l])));
    out.bbox_preds.push_back(
        scales_[l]->as<ScaleImpl>()->forward(gfl_reg_->forward(run_conv_tower(reg_convs_, feats[l]))).to(torch::kFloat32));
  }
  return out;
}

Detections GFLHead::get_bboxes_single(const std::vector<torch::Tensor>& cls_scores,
                                      const std::vector<torch::Tensor>& bbox_preds,
                                      const std::vector<torch::Tensor>& /*score_factors*/,
                                      const std::vector<torch::Tensor>& priors, const ImageMeta& meta,
                                      const DenseTestConfig& cfg, bool rescale) {
  const ImageSize img_shape{meta.img_shape[0], meta.img_shape[1]};
  std::vector<torch::Tensor> mlvl_bboxes, mlvl_scores, mlvl_labels;
  for (size_t l = 0; l < cls_scores.size(); ++l) {
    const torch::Tensor distances = integral_->forward(bbox_preds[l].permute({1, 2, 0})) * strides_[l];
    const torch::Tensor scores = cls_scores[l].permute({1, 2, 0}).reshape({-1, cls_out_channels_}).sigmoid();
    const LevelCandidates c = filter_scores_and_topk(scores, cfg.score_thr, cfg.nms_pre);
    mlvl_bboxes.push_back(bbox_coder_->decode(anchor_centers(priors[l].index_select(0, c.keep_idxs)),
                                              distances.index_select(0, c.keep_idxs), img_shape));
    mlvl_scores.push_back(c.scores);
    mlvl_labels.push_back(c.labels);
  }
  return bbox_post_process(mlvl_bboxes, mlvl_scores, mlvl_labels, {}, meta, cfg, rescale);
}

LossTerms GFLHead::loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                        const std::vector<GtInstances>& gts, DebugTrace* trace) {
  prepare_training();
  if (!loss_dfl_) loss_dfl_ = loss_registry().build(gfl_options_.loss_dfl, gfl_options_.loss_dfl_path);
  const config::Value* loss_type = options_.loss_cls.is_dict() ? options_.loss_cls.as_dict().find("type") : nullptr;
  if (!loss_type || !loss_type->is_string() || loss_type->as_string() != "QualityFocalLoss")
    throw ConfigError(options_.loss_cls_path + ".type: GFLHead trains with QualityFocalLoss");
  const auto* assigner = dynamic_cast<const ATSSAssigner*>(train_->assigner.get());
  if (!assigner) throw ConfigError(options_.train_cfg_path + ".assigner: GFLHead needs type='ATSSAssigner'");
  const auto& coder = static_cast<const DistancePointBBoxCoder&>(*bbox_coder_);
  std::vector<FeatSize> sizes;
  for (const torch::Tensor& s : outputs.cls_scores) sizes.emplace_back(s.size(2), s.size(3));
  const torch::Device device = outputs.cls_scores.at(0).device();
  AtssTargetSettings settings;
  settings.assigner = assigner;
  settings.allowed_border = train_->allowed_border;
  settings.pos_weight = train_->pos_weight;
  settings.num_classes = options_.num_classes;
  const AtssTargets t = atss_targets(prior_generator_->grid_priors(sizes, torch::kFloat32, device), sizes,
                                     *prior_generator_, metas, gts, settings, trace);
  const int64_t bins = gfl_options_.reg_max + 1;

  std::vector<torch::Tensor> losses_cls, losses_bbox, losses_dfl;
  torch::Tensor avg_factor;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const double stride = strides_[l];
    const torch::Tensor cls_score = outputs.cls_scores[l].permute({0, 2, 3, 1}).reshape({-1, cls_out_channels_});
    const torch::Tensor bbox_pred = outputs.bbox_preds[l].permute({0, 2, 3, 1}).reshape({-1, 4 * bins});
    const torch::Tensor& labels = t.labels[l];
    const torch::Tensor pos_inds = torch::nonzero((labels >= 0) & (labels < options_.num_classes)).squeeze(1);
    // The QFL target: the IoU score at each positive's class, 0 elsewhere.
    torch::Tensor quality = torch::zeros_like(cls_score, cls_score.options().requires_grad(false));
    torch::Tensor weight_sum;
    if (pos_inds.numel() > 0) {
      const torch::Tensor pos_bbox_pred = bbox_pred.index_select(0, pos_inds);
      const torch::Tensor pos_centers = anchor_centers(t.anchors[l].index_select(0, pos_inds)) / stride;
      const torch::Tensor weight_targets = std::get<0>(cls_score.detach().sigmoid().max(1)).index_select(0, pos_inds);
      const torch::Tensor pos_decoded = coder.decode(pos_centers, integral_->forward(pos_bbox_pred));
      const torch::Tensor pos_decoded_targets = t.bbox_targets[l].index_select(0, pos_inds) / stride;
      quality.index_put_({pos_inds, labels.index_select(0, pos_inds)},
                         ops::bbox_overlaps(pos_decoded.detach(), pos_decoded_targets, ops::OverlapMode::kIoU, true));
      const torch::Tensor target_corners = coder.encode(pos_centers, pos_decoded_targets, static_cast<double>(gfl_options_.reg_max)).reshape({-1});
      losses_bbox.push_back((*loss_bbox_)(pos_decoded, pos_decoded_targets, weight_targets, 1.0));
      losses_dfl.push_back((*loss_dfl_)(pos_bbox_pred.reshape({-1, bins}), target_corners,
                                        weight_targets.unsqueeze(1).expand({-1, 4}).reshape({-1}), 4.0));
      weight_sum = weight_targets.sum();
    } else {
      losses_bbox.push_back(bbox_pred.sum() * 0);
      losses_dfl.push_back(bbox_pred.sum() * 0);
      weight_sum = torch::zeros({}, bbox_pred.options());
    }
    losses_cls.push_back((*loss_cls_)(cls_score, quality, t.label_weights[l], t.num_total_samples));
    avg_factor = avg_factor.defined() ? avg_factor + weight_sum : weight_sum;
  }
  const double avg = avg_factor.detach().clamp_min(1).item<double>();
  torch::Tensor loss_cls, loss_bbox, loss_dfl;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const torch::Tensor b = (losses_bbox[l] / avg).mean(), d = (losses_dfl[l] / avg).mean();
    loss_cls = loss_cls.defined() ? loss_cls + losses_cls[l].mean() : losses_cls[l].mean();
    loss_bbox = loss_bbox.defined() ? loss_bbox + b : b;
    loss_dfl = loss_dfl.defined() ? loss_dfl + d : d;
  }
  return {{"loss_cls", loss_cls}, {"loss_bbox", loss_bbox}, {"loss_dfl", loss_dfl}};
}

}  // namespace cppdet::models
