#include "cppdet/models/dense_heads/rpn_head.h"

#include <torch/nn/modules/container/sequential.h>

#include "cppdet/core/error.h"
#include "cppdet/ops/nms.h"

namespace cppdet::models {

namespace {

config::Value default_rpn_anchor_generator() {
  // AnchorHead's default: scales [8, 16, 32], ratios [0.5, 1, 2], strides [4, 8, 16, 32, 64].
  config::Dict d;
  d.set("type", "AnchorGenerator");
  d.set("scales", config::Value::list({8, 16, 32}));
  d.set("ratios", config::Value::list({0.5, 1.0, 2.0}));
  d.set("strides", config::Value::list({4, 8, 16, 32, 64}));
  return d;
}

}  // namespace

RPNHeadOptions RPNHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                           const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  RPNHeadOptions o;
  o.head = AnchorHeadOptions::read(r, head_cfgs, default_rpn_anchor_generator());
  o.head.num_classes = 1;
  o.num_convs = r.get_int("num_convs", 1);
  r.finish();
  return o;
}

RPNHead::RPNHead(const RPNHeadOptions& o) : AnchorHead(o.head) {
  const int64_t in = options_.in_channels, feat = options_.feat_channels;
  if (o.num_convs > 1) {
    torch::nn::Sequential convs;
    for (int64_t i = 0; i < o.num_convs; ++i)
      convs->push_back(ConvModule(ConvModuleOptions{i == 0 ? in : feat, feat, 3, 1, 1, 1, std::nullopt, true}));
    rpn_convs_ = register_module("rpn_conv", convs);
  } else {
    rpn_conv_ = register_module("rpn_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, feat, 3).padding(1)));
  }
  rpn_cls_ = register_module("rpn_cls", torch::nn::Conv2d(torch::nn::Conv2dOptions(feat, num_base_priors_ * cls_out_channels_, 1)));
  rpn_reg_ = register_module("rpn_reg", torch::nn::Conv2d(torch::nn::Conv2dOptions(feat, num_base_priors_ * 4, 1)));
}

DenseHeadOutputs RPNHead::forward(const std::vector<torch::Tensor>& feats) {
  DenseHeadOutputs out;
  if (!feats.empty() && prepared_.applies(*this, *this, feats[0])) {
    for (const torch::Tensor& f : feats) {
      const torch::Tensor x = rpn_conv_ ? prepared_conv_(f) : torch::relu(rpn_convs_->forward(f));
      out.cls_scores.push_back(prepared_cls_(x));
      out.bbox_preds.push_back(prepared_reg_(x));
    }
    return out;
  }
  for (const torch::Tensor& f : feats) {
    const torch::Tensor x = torch::relu(rpn_conv_ ? rpn_conv_->forward(f) : rpn_convs_->forward(f));
    out.cls_scores.push_back(rpn_cls_->forward(x));
    out.bbox_preds.push_back(rpn_reg_->forward(x));
  }
  return out;
}

bool RPNHead::set_inference_precision(const InferencePrecision& precision, const std::string& path) {
  prepared_conv_ = prepared_cls_ = prepared_reg_ = PreparedConv();
  const bool prepare = precision.mode != PrecisionMode::kFp32 && !is_training();
  if (prepare) {
    PreparedConvOptions relu, prediction;
    relu.relu = true;
    prediction.float_output = true;
    if (rpn_conv_)
      prepared_conv_ = PreparedConv(conv_weights(*rpn_conv_, nullptr), precision, child_path(path, "rpn_conv"), relu);
    prepared_cls_ = PreparedConv(conv_weights(*rpn_cls_, nullptr), precision, child_path(path, "rpn_cls"), prediction);
    prepared_reg_ = PreparedConv(conv_weights(*rpn_reg_, nullptr), precision, child_path(path, "rpn_reg"), prediction);
  }
  prepared_.set(prepare, precision, path, *this);
  return prepare;
}

std::vector<torch::Tensor> RPNHead::simple_test_rpn(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas) {
  std::vector<torch::Tensor> proposals;
  for (Detections& d : get_bboxes(outputs, metas, /*rescale=*/false)) proposals.push_back(d.bboxes);
  return proposals;
}

std::vector<torch::Tensor> RPNHead::proposals(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                              const DenseTestConfig& cfg) {
  std::vector<torch::Tensor> out;
  for (Detections& d : get_bboxes(outputs, metas, cfg, /*rescale=*/false)) out.push_back(d.bboxes);
  return out;
}

Detections RPNHead::get_bboxes_single(const std::vector<torch::Tensor>& cls_scores,
                                      const std::vector<torch::Tensor>& bbox_preds,
                                      const std::vector<torch::Tensor>& /*score_factors*/,
                                      const std::vector<torch::Tensor>& priors, const ImageMeta& meta,
                                      const DenseTestConfig& cfg, bool rescale) {
  std::vector<torch::Tensor> mlvl_scores, mlvl_deltas, mlvl_anchors, level_ids;
  for (size_t l = 0; l < cls_scores.size(); ++l) {
    const torch::Tensor cls = cls_scores[l].permute({1, 2, 0});
    torch::Tensor scores = options_.use_sigmoid_cls ? cls.reshape({-1}).sigmoid()
                                                    : cls.reshape({-1, 2}).softmax(1).select(1, 0);
    torch::Tensor deltas = bbox_preds[l].permute({1, 2, 0}).reshape({-1, 4});
    torch::Tensor anchors = priors[l];
    if (cfg.nms_pre > 0 && cfg.nms_pre < scores.size(0)) {
      auto [ranked, rank_inds] = scores.sort(/*dim=*/-1, /*descending=*/true);
      const torch::Tensor topk = rank_inds.narrow(0, 0, cfg.nms_pre);
      scores = ranked.narrow(0, 0, cfg.nms_pre);
      deltas = deltas.index_select(0, topk);
      anchors = anchors.index_select(0, topk);
    }
    level_ids.push_back(torch::full({scores.size(0)}, static_cast<int64_t>(l), scores.options().dtype(torch::kLong)));
    mlvl_scores.push_back(scores);
    mlvl_deltas.push_back(deltas);
    mlvl_anchors.push_back(anchors);
  }
  torch::Tensor scores = torch::cat(mlvl_scores);
  torch::Tensor proposals = bbox_coder_->decode(torch::cat(mlvl_anchors), torch::cat(mlvl_deltas),
                                                ImageSize{meta.img_shape[0], meta.img_shape[1]});
  torch::Tensor ids = torch::cat(level_ids);
  if (cfg.min_bbox_size >= 0) {
    const torch::Tensor w = proposals.select(1, 2) - proposals.select(1, 0);
    const torch::Tensor h = proposals.select(1, 3) - proposals.select(1, 1);
    const torch::Tensor valid = (w > cfg.min_bbox_size) & (h > cfg.min_bbox_size);
    if (!valid.all().item<bool>()) {
      proposals = proposals.index({valid});
      scores = scores.index({valid});
      ids = ids.index({valid});
    }
  }
  if (proposals.numel() == 0) return {proposals.new_zeros({0, 5}), torch::zeros({0}, ids.options())};
  ops::BatchedNmsResult r = ops::batched_nms(proposals, scores, ids, cfg.nms.iou_threshold, cfg.nms.class_agnostic,
                                             cfg.nms.split_thr, cfg.nms.soft);
  const int64_t k = cfg.max_per_img >= 0 ? python_slice_len(cfg.max_per_img, r.dets.size(0)) : r.dets.size(0);
  torch::Tensor dets = r.dets.narrow(0, 0, k);
  if (rescale) {
    const auto& sf = meta.scale_factor;
    dets = torch::cat({dets.narrow(1, 0, 4) / torch::tensor({sf[0], sf[1], sf[2], sf[3]}, dets.options()),
                       dets.narrow(1, 4, 1)}, 1);
  }
  return {dets, torch::zeros({k}, ids.options())};
}

}  // namespace cppdet::models
