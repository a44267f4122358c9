// AnchorHead training: targets (mmdet's AnchorHead.get_targets / _get_targets_single) and the
// per-level losses (loss_single), summed over levels.
#include <algorithm>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/dense_heads/anchor_head.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {
namespace {

bool is_focal_like(const std::string& loss_type) {
  return loss_type == "FocalLoss" || loss_type == "GHMC" || loss_type == "QualityFocalLoss";
}

config::Value default_loss(const char* type, double beta = 0) {
  config::Dict d;
  d.set("type", type);
  if (std::string(type) == "CrossEntropyLoss") d.set("use_sigmoid", true);
  if (beta > 0) d.set("beta", beta);
  d.set("loss_weight", 1.0);
  return d;
}

// Per image training targets over all anchors (levels concatenated).
struct ImageTargets {
  torch::Tensor labels;         // [A] int64, num_classes = background
  torch::Tensor label_weights;  // [A] float
  torch::Tensor bbox_targets;   // [A, 4]
  torch::Tensor bbox_weights;   // [A, 4]
  int64_t num_pos = 0, num_neg = 0;
};

}  // namespace

torch::Tensor anchor_inside_flags(const torch::Tensor& anchors, const torch::Tensor& valid, const ImageMeta& meta,
                                  double allowed_border) {
  if (allowed_border < 0) return valid;
  const double h = static_cast<double>(meta.img_shape[0]), w = static_cast<double>(meta.img_shape[1]);
  return valid & (anchors.select(1, 0) >= -allowed_border) & (anchors.select(1, 1) >= -allowed_border) &
         (anchors.select(1, 2) < w + allowed_border) & (anchors.select(1, 3) < h + allowed_border);
}

AnchorTrainConfig AnchorTrainConfig::from_config(const config::Value& cfg, const std::string& path,
                                                 const std::string& loss_cls_type) {
  if (cfg.is_none()) throw ConfigError(path + ": the training settings of this head are missing");
  config::ConfigReader r(cfg, path);
  AnchorTrainConfig c;
  c.assigner = bbox_assigner_registry().build(r.get("assigner"), r.path_of("assigner"));
  const config::Value* sampler = r.get_optional("sampler");
  bool sampling = false;
  if (sampler) {
    config::ConfigReader s(*sampler, r.path_of("sampler"));
    const std::string type = s.get_string("type");
    sampling = type != "PseudoSampler" && !is_focal_like(loss_cls_type);
  }
  if (sampling) {
    c.sampler = bbox_sampler_registry().build(*sampler, r.path_of("sampler"));
  } else {
    config::Dict pseudo;
    pseudo.set("type", "PseudoSampler");
    c.sampler = bbox_sampler_registry().build(pseudo, r.path_of("sampler"));
  }
  c.sampling = sampling;
  c.allowed_border = r.get_number("allowed_border", -1);
  c.pos_weight = r.get_number("pos_weight", -1);
  r.get_bool("debug", false);
  r.finish();
  return c;
}

void AnchorHead::prepare_training() {
  if (train_) return;
  const config::Value loss_cls_cfg = options_.loss_cls.is_none() ? default_loss("CrossEntropyLoss") : options_.loss_cls;
  const config::Value loss_bbox_cfg = options_.loss_bbox.is_none() ? default_loss("SmoothL1Loss", 1.0 / 9.0) : options_.loss_bbox;
  loss_cls_ = loss_registry().build(loss_cls_cfg, options_.loss_cls_path);
  loss_bbox_ = loss_registry().build(loss_bbox_cfg, options_.loss_bbox_path);
  const std::string loss_cls_type = loss_cls_cfg.as_dict().at("type").as_string();
  const std::string path = options_.train_cfg_path.empty() ? "model.train_cfg" : options_.train_cfg_path;
  train_ = AnchorTrainConfig::from_config(options_.train_cfg, path, loss_cls_type);
}

LossTerms AnchorHead::loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                           const std::vector<GtInstances>& gts, DebugTrace* trace) {
  prepare_training();
  const AnchorTrainConfig& cfg = *train_;
  const size_t num_imgs = metas.size();
  if (gts.size() != num_imgs)
    throw UserError("dense head loss: " + std::to_string(gts.size()) + " ground truths for " +
                    std::to_string(num_imgs) + " images");
  std::vector<FeatSize> sizes;
  for (const torch::Tensor& s : outputs.cls_scores) sizes.emplace_back(s.size(2), s.size(3));
  const torch::Device device = outputs.cls_scores.at(0).device();
  const std::vector<torch::Tensor> level_anchors = prior_generator_->grid_priors(sizes, torch::kFloat32, device);
  std::vector<int64_t> num_level_anchors;
  for (const auto& a : level_anchors) num_level_anchors.push_back(a.size(0));
  const torch::Tensor flat_anchors = torch::cat(level_anchors);
  const int64_t total = flat_anchors.size(0);
  const int64_t background = options_.num_classes;

  std::vector<ImageTargets> targets(num_imgs);
  int64_t num_total_pos = 0, num_total_neg = 0;
  for (size_t i = 0; i < num_imgs; ++i) {
    const ImageMeta& meta = metas[i];
    const GtInstances& gt = gts[i];
    const torch::Tensor valid =
        torch::cat(prior_generator_->valid_flags(sizes, {meta.pad_shape[0], meta.pad_shape[1]}, device));
    const torch::Tensor inside = anchor_inside_flags(flat_anchors, valid, meta, cfg.allowed_border);
    const torch::Tensor inside_inds = torch::nonzero(inside).squeeze(1);
    if (inside_inds.numel() == 0)
      throw UserError("image " + meta.filename + ": no anchor lies inside the image (allowed_border " +
                      std::to_string(cfg.allowed_border) + ")");
    const torch::Tensor anchors = flat_anchors.index_select(0, inside_inds);
    const torch::Tensor gt_labels = uses_gt_labels() ? gt.labels : torch::Tensor();
    AssignResult assigned = cfg.assigner->assign(anchors, gt.bboxes, gt.bboxes_ignore,
                                                 cfg.sampling ? torch::Tensor() : gt_labels);
    if (trace) {
      trace->record(trace_name() + ".assign.gt_inds." + std::to_string(i), assigned.gt_inds);
      trace->record(trace_name() + ".assign.max_overlaps." + std::to_string(i), assigned.max_overlaps);
    }
    const SamplingResult sampled = cfg.sampler->sample(assigned, anchors, gt.bboxes, torch::Tensor());

    const int64_t n = anchors.size(0);
    torch::Tensor labels = torch::full({n}, background, anchors.options().dtype(torch::kLong));
    torch::Tensor label_weights = torch::zeros({n}, anchors.options());
    torch::Tensor bbox_targets = torch::zeros_like(anchors);
    torch::Tensor bbox_weights = torch::zeros_like(anchors);
    const torch::Tensor& pos = sampled.pos_inds;
    const torch::Tensor& neg = sampled.neg_inds;
    if (pos.numel() > 0) {
      const torch::Tensor pos_targets = options_.reg_decoded_bbox
                                            ? sampled.pos_gt_bboxes
                                            : bbox_coder_->encode(sampled.pos_bboxes, sampled.pos_gt_bboxes);
      bbox_targets.index_copy_(0, pos, pos_targets.to(bbox_targets.dtype()));
      bbox_weights.index_fill_(0, pos, 1.0);
      if (gt_labels.defined())
        labels.index_copy_(0, pos, gt_labels.to(torch::kLong).index_select(0, sampled.pos_assigned_gt_inds));
      else
        labels.index_fill_(0, pos, 0);
      label_weights.index_fill_(0, pos, cfg.pos_weight <= 0 ? 1.0 : cfg.pos_weight);
    }
    if (neg.numel() > 0) label_weights.index_fill_(0, neg, 1.0);

    // unmap to all anchors: labels default to background, everything else to 0.
    ImageTargets& t = targets[i];
    t.labels = torch::full({total}, background, labels.options()).index_copy_(0, inside_inds, labels);
    t.label_weights = torch::zeros({total}, label_weights.options()).index_copy_(0, inside_inds, label_weights);
    t.bbox_targets = torch::zeros({total, 4}, bbox_targets.options()).index_copy_(0, inside_inds, bbox_targets);
    t.bbox_weights = torch::zeros({total, 4}, bbox_weights.options()).index_copy_(0, inside_inds, bbox_weights);
    t.num_pos = pos.numel();
    t.num_neg = neg.numel();
    num_total_pos += std::max<int64_t>(t.num_pos, 1);
    num_total_neg += std::max<int64_t>(t.num_neg, 1);
  }
  const double num_total_samples = static_cast<double>(cfg.sampling ? num_total_pos + num_total_neg : num_total_pos);

  // Per level: images stacked [N, n_l] then flattened image-major, like the predictions.
  torch::Tensor loss_cls_sum, loss_bbox_sum;
  int64_t start = 0;
  for (size_t l = 0; l < level_anchors.size(); ++l) {
    const int64_t n_l = num_level_anchors[l];
    auto level = [&](torch::Tensor ImageTargets::*field) {
      std::vector<torch::Tensor> parts;
      for (const ImageTargets& t : targets) parts.push_back((t.*field).narrow(0, start, n_l));
      return torch::stack(parts);
    };
    const torch::Tensor labels = level(&ImageTargets::labels).reshape({-1});
    const torch::Tensor label_weights = level(&ImageTargets::label_weights).reshape({-1});
    const torch::Tensor bbox_targets = level(&ImageTargets::bbox_targets).reshape({-1, 4});
    const torch::Tensor bbox_weights = level(&ImageTargets::bbox_weights).reshape({-1, 4});
    const torch::Tensor cls_score = outputs.cls_scores[l].permute({0, 2, 3, 1}).reshape({-1, cls_out_channels_});
    torch::Tensor bbox_pred = outputs.bbox_preds[l].permute({0, 2, 3, 1}).reshape({-1, 4});
    if (options_.reg_decoded_bbox) {
      const torch::Tensor anchors = level_anchors[l].repeat({static_cast<int64_t>(num_imgs), 1});
      bbox_pred = bbox_coder_->decode(anchors, bbox_pred);
    }
    const torch::Tensor lc = (*loss_cls_)(cls_score, labels, label_weights, num_total_samples);
    const torch::Tensor lb = (*loss_bbox_)(bbox_pred, bbox_targets, bbox_weights, num_total_samples);
    loss_cls_sum = loss_cls_sum.defined() ? loss_cls_sum + lc.mean() : lc.mean();
    loss_bbox_sum = loss_bbox_sum.defined() ? loss_bbox_sum + lb.mean() : lb.mean();
    start += n_l;
  }
  return {{loss_name("cls"), loss_cls_sum}, {loss_name("bbox"), loss_bbox_sum}};
}

}  // namespace cppdet::models
