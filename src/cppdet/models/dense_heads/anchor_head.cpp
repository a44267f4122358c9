#include "cppdet/models/dense_heads/anchor_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

using torch::indexing::Slice;

config::Value anchor_head_default_generator() {
  config::Dict d;
  d.set("type", "AnchorGenerator");
  d.set("scales", config::Value::list({8, 16, 32}));
  d.set("ratios", config::Value::list({0.5, 1.0, 2.0}));
  d.set("strides", config::Value::list({4, 8, 16, 32, 64}));
  return d;
}

AnchorHeadOptions AnchorHeadOptions::read(config::ConfigReader& r, const HeadConfigs& head_cfgs,
                                          const config::Value& default_anchor_generator) {
  AnchorHeadOptions o;
  o.in_channels = r.get_int("in_channels");
  o.feat_channels = r.get_int("feat_channels", 256);
  o.anchor_generator = r.has("anchor_generator") ? r.get("anchor_generator") : default_anchor_generator;
  o.anchor_generator_path = r.path_of("anchor_generator");
  if (r.has("bbox_coder")) {
    o.bbox_coder = r.get("bbox_coder");
  } else {
    config::Dict coder;
    coder.set("type", "DeltaXYWHBBoxCoder");
    o.bbox_coder = coder;
  }
  o.bbox_coder_path = r.path_of("bbox_coder");
  o.reg_decoded_bbox = r.get_bool("reg_decoded_bbox", false);
  if (r.has("loss_cls")) o.loss_cls = r.get("loss_cls");
  o.loss_cls_path = r.path_of("loss_cls");
  if (r.has("loss_bbox")) o.loss_bbox = r.get("loss_bbox");
  o.loss_bbox_path = r.path_of("loss_bbox");
  o.use_sigmoid_cls = false;
  if (o.loss_cls.is_dict()) {
    if (const config::Value* s = o.loss_cls.as_dict().find("use_sigmoid")) o.use_sigmoid_cls = s->as_bool();
  } else {
    o.use_sigmoid_cls = true;  // mmdet's default loss_cls is sigmoid CrossEntropyLoss
  }
  r.ignore({"init_cfg", "train_cfg", "test_cfg"});
  if (!head_cfgs.test_cfg.is_none())
    o.test_cfg = DenseTestConfig::from_config(head_cfgs.test_cfg, head_cfgs.test_cfg_path);
  o.train_cfg = head_cfgs.train_cfg;
  o.train_cfg_path = head_cfgs.train_cfg_path;
  return o;
}

AnchorHead::AnchorHead(const AnchorHeadOptions& options) : options_(options) {
  prior_generator_ = prior_generator_registry().build(options_.anchor_generator, options_.anchor_generator_path);
  bbox_coder_ = bbox_coder_registry().build(options_.bbox_coder, options_.bbox_coder_path);
  const std::vector<int64_t> priors = prior_generator_->num_base_priors();
  num_base_priors_ = priors.empty() ? 0 : priors[0];
  for (int64_t p : priors)
    if (p != num_base_priors_)
      throw ConfigError(options_.anchor_generator_path + ": every level needs the same number of anchors");
  cls_out_channels_ = options_.use_sigmoid_cls ? options_.num_classes : options_.num_classes + 1;
}

const DenseTestConfig& AnchorHead::test_cfg() const {
  if (!options_.test_cfg) throw ConfigError("model.test_cfg: missing the test settings of this dense head");
  return *options_.test_cfg;
}

std::vector<Detections> AnchorHead::get_bboxes(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                               bool rescale) {
  return get_bboxes(outputs, metas, test_cfg(), rescale);
}

std::vector<Detections> AnchorHead::get_bboxes(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                               const DenseTestConfig& cfg, bool rescale) {
  std::vector<FeatSize> sizes;
  for (const torch::Tensor& s : outputs.cls_scores) sizes.emplace_back(s.size(2), s.size(3));
  const torch::Tensor& first = outputs.cls_scores.at(0);
  const std::vector<torch::Tensor> priors =
      prior_generator_->grid_priors(sizes, first.scalar_type(), first.device());
  std::vector<Detections> out;
  for (size_t i = 0; i < metas.size(); ++i) {
    std::vector<torch::Tensor> cls, reg, factors;
    for (size_t l = 0; l < outputs.cls_scores.size(); ++l) {
      cls.push_back(outputs.cls_scores[l][i].detach());
      reg.push_back(outputs.bbox_preds[l][i].detach());
      if (!outputs.score_factors.empty()) factors.push_back(outputs.score_factors[l][i].detach());
    }
    out.push_back(get_bboxes_single(cls, reg, factors, priors, metas[i], cfg, rescale));
  }
  return out;
}

Detections AnchorHead::get_bboxes_single(const std::vector<torch::Tensor>& cls_scores,
                                         const std::vector<torch::Tensor>& bbox_preds,
                                         const std::vector<torch::Tensor>& score_factors,
                                         const std::vector<torch::Tensor>& priors, const ImageMeta& meta,
                                         const DenseTestConfig& cfg, bool rescale) {
  const ImageSize img_shape{meta.img_shape[0], meta.img_shape[1]};
  std::vector<torch::Tensor> mlvl_bboxes, mlvl_scores, mlvl_labels, mlvl_factors;
  for (size_t l = 0; l < cls_scores.size(); ++l) {
    const torch::Tensor bbox_pred = bbox_preds[l].permute({1, 2, 0}).reshape({-1, 4});
    const torch::Tensor cls_score = cls_scores[l].permute({1, 2, 0}).reshape({-1, cls_out_channels_});
    const torch::Tensor scores = options_.use_sigmoid_cls
                                     ? cls_score.sigmoid()
                                     : cls_score.softmax(-1).index({Slice(), Slice(0, options_.num_classes)});
    const LevelCandidates c = filter_scores_and_topk(scores, cfg.score_thr, cfg.nms_pre);
    mlvl_bboxes.push_back(bbox_coder_->decode(priors[l].index_select(0, c.keep_idxs),
                                              bbox_pred.index_select(0, c.keep_idxs), img_shape));
    mlvl_scores.push_back(c.scores);
    mlvl_labels.push_back(c.labels);
    if (!score_factors.empty())
      mlvl_factors.push_back(score_factors[l].permute({1, 2, 0}).reshape({-1}).sigmoid().index_select(0, c.keep_idxs));
  }
  return bbox_post_process(mlvl_bboxes, mlvl_scores, mlvl_labels, mlvl_factors, meta, cfg, rescale);
}

}  // namespace cppdet::models
