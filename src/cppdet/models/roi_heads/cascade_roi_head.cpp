#include "cppdet/models/roi_heads/cascade_roi_head.h"

#include <torch/utils.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

namespace {

// A component given as one dict (used by every stage) or as a list of num_stages dicts.
void read_per_stage(config::ConfigReader& r, const char* key, int64_t num_stages, std::vector<config::Value>& out,
                    std::vector<std::string>& paths) {
  const config::Value* v = r.get_optional(key);
  if (!v) return;
  const std::string path = r.path_of(key);
  if (v->is_dict()) {
    out.assign(static_cast<size_t>(num_stages), *v);
    paths.assign(static_cast<size_t>(num_stages), path);
    return;
  }
  if (!v->is_sequence())
    throw ConfigError(path + ": expected a dict or a list of " + std::to_string(num_stages) + " dicts, got " +
                      v->type_name());
  const config::List& items = v->as_sequence();
  if (static_cast<int64_t>(items.size()) != num_stages)
    throw ConfigError(path + ": expected num_stages=" + std::to_string(num_stages) + " entries, got " +
                      std::to_string(items.size()));
  for (size_t i = 0; i < items.size(); ++i) {
    out.push_back(items[i]);
    paths.push_back(path + "[" + std::to_string(i) + "]");
  }
}

// The first entries of `feats` an extractor reads (mmdet's x[:num_inputs]).
std::vector<torch::Tensor> extractor_inputs(const std::vector<torch::Tensor>& feats, const RoIExtractor& e) {
  const size_t n = std::min(feats.size(), static_cast<size_t>(e.num_inputs()));
  return {feats.begin(), feats.begin() + static_cast<std::ptrdiff_t>(n)};
}

Detections no_detections(const torch::Tensor& like) {
  return {like.new_zeros({0, 5}), torch::zeros({0}, like.options().dtype(torch::kLong))};
}

std::string stage_key(const char* prefix, int64_t stage, const char* name) {
  return std::string(prefix) + std::to_string(stage) + "." + name;
}

}  // namespace

CascadeRoIHeadOptions CascadeRoIHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                                         const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  CascadeRoIHeadOptions o;
  o.num_stages = r.get_int("num_stages");
  if (o.num_stages < 1) throw ConfigError(r.path_of("num_stages") + ": must be >= 1");
  o.stage_loss_weights = r.get_numbers("stage_loss_weights");
  if (static_cast<int64_t>(o.stage_loss_weights.size()) != o.num_stages)
    throw ConfigError(r.path_of("stage_loss_weights") + ": expected num_stages=" + std::to_string(o.num_stages) +
                      " weights, got " + std::to_string(o.stage_loss_weights.size()));
  read_per_stage(r, "bbox_roi_extractor", o.num_stages, o.bbox_roi_extractor, o.bbox_roi_extractor_path);
  read_per_stage(r, "bbox_head", o.num_stages, o.bbox_head, o.bbox_head_path);
  read_per_stage(r, "mask_roi_extractor", o.num_stages, o.mask_roi_extractor, o.mask_roi_extractor_path);
  read_per_stage(r, "mask_head", o.num_stages, o.mask_head, o.mask_head_path);
  if (r.get_optional("shared_head"))
    throw ConfigError(r.path_of("shared_head") + ": shared heads are not supported in Cascade R-CNN (as in MMDetection)");
  r.ignore({"init_cfg", "pretrained", "train_cfg", "test_cfg"});
  r.finish();
  if (o.bbox_roi_extractor.empty()) throw ConfigError(r.path_of("bbox_roi_extractor") + ": required key is missing");
  if (o.bbox_head.empty()) throw ConfigError(r.path_of("bbox_head") + ": required key is missing");
  if (!head_cfgs.test_cfg.is_none()) o.test_cfg = rcnn_test_config_from(head_cfgs.test_cfg, head_cfgs.test_cfg_path);
  o.train_cfg = head_cfgs.train_cfg;
  o.train_cfg_path = head_cfgs.train_cfg_path.empty() ? "model.train_cfg.rcnn" : head_cfgs.train_cfg_path;
  return o;
}

std::vector<torch::Tensor> refine_bboxes(const BBoxHead& head, const torch::Tensor& rois, const torch::Tensor& labels,
                                         const torch::Tensor& bbox_pred, const std::vector<torch::Tensor>& pos_is_gts,
                                         const std::vector<ImageMeta>& metas) {
  TORCH_CHECK(pos_is_gts.size() == metas.size(), "refine_bboxes: ", pos_is_gts.size(), " pos_is_gt sets for ",
              metas.size(), " images");
  const torch::Tensor img_ids = rois.select(1, 0);
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < metas.size(); ++i) {
    const torch::Tensor inds = (img_ids == static_cast<double>(i)).nonzero().squeeze(1);
    const torch::Tensor boxes = rois.index_select(0, inds).narrow(1, 1, 4);
    const torch::Tensor refined =
        head.regress_by_class(boxes, labels.index_select(0, inds), bbox_pred.index_select(0, inds),
                              {metas[i].img_shape[0], metas[i].img_shape[1]});
    // Keep every negative and the positives that are not gts (positives come first).
    const int64_t num_pos = pos_is_gts[i].numel();
    torch::Tensor keep = torch::ones({inds.numel()}, torch::TensorOptions().dtype(torch::kBool).device(rois.device()));
    keep.narrow(0, 0, num_pos).copy_(pos_is_gts[i] == 0);
    out.push_back(refined.index({keep}));
  }
  return out;
}

CascadeRoIHead::CascadeRoIHead(const CascadeRoIHeadOptions& o)
    : stage_loss_weights_(o.stage_loss_weights),
      test_cfg_(o.test_cfg),
      train_cfg_value_(o.train_cfg),
      train_cfg_path_(o.train_cfg_path) {
  const auto n = static_cast<size_t>(o.num_stages);
  // Registration order = MMDetection's: bbox_roi_extractor, bbox_head, mask_head, mask_roi_extractor.
  auto bbox_extractors = register_module("bbox_roi_extractor", torch::nn::ModuleList());
  auto bbox_heads = register_module("bbox_head", torch::nn::ModuleList());
  for (size_t i = 0; i < n; ++i) {
    bbox_roi_extractors_.push_back(roi_extractor_registry().build(o.bbox_roi_extractor[i], o.bbox_roi_extractor_path[i]));
    bbox_extractors->push_back(bbox_roi_extractors_.back());
    bbox_heads_.push_back(bbox_head_registry().build(o.bbox_head[i], o.bbox_head_path[i]));
    bbox_heads->push_back(bbox_heads_.back());
  }
  if (o.mask_head.empty()) return;
  auto mask_heads = register_module("mask_head", torch::nn::ModuleList());
  for (size_t i = 0; i < n; ++i) {
    mask_heads_.push_back(mask_head_registry().build(o.mask_head[i], o.mask_head_path[i]));
    mask_heads->push_back(mask_heads_.back());
  }
  if (o.mask_roi_extractor.empty()) {
    mask_roi_extractors_ = bbox_roi_extractors_;  // share_roi_extractor
  } else {
    auto mask_extractors = register_module("mask_roi_extractor", torch::nn::ModuleList());
    for (size_t i = 0; i < n; ++i) {
      mask_roi_extractors_.push_back(roi_extractor_registry().build(o.mask_roi_extractor[i], o.mask_roi_extractor_path[i]));
      mask_extractors->push_back(mask_roi_extractors_.back());
    }
  }
  const std::vector<config::Value>& cfgs = o.mask_roi_extractor.empty() ? o.bbox_roi_extractor : o.mask_roi_extractor;
  same_mask_features_ = true;
  for (size_t i = 0; i < n; ++i)
    same_mask_features_ = same_mask_features_ && cfgs[i] == cfgs[0] && mask_roi_extractors_[i]->parameters().empty();
}

const RcnnTestConfig& CascadeRoIHead::test_cfg() const {
  if (!test_cfg_) throw ConfigError("model.test_cfg.rcnn: missing the RoI head's test settings");
  return *test_cfg_;
}

const std::vector<RcnnTrainConfig>& CascadeRoIHead::train_cfgs() {
  if (!train_cfgs_.empty()) return train_cfgs_;
  const config::Value& v = train_cfg_value_;
  if (v.is_none()) throw ConfigError(train_cfg_path_ + ": the RoI head's training settings are missing");
  if (!v.is_sequence() || static_cast<int64_t>(v.as_sequence().size()) != num_stages())
    throw ConfigError(train_cfg_path_ + ": expected a list of " + std::to_string(num_stages()) +
                      " per-stage dicts (assigner, sampler, ...), got " +
                      (v.is_sequence() ? std::to_string(v.as_sequence().size()) + " entries" : v.type_name()));
  std::vector<RcnnTrainConfig> cfgs;
  for (size_t i = 0; i < v.as_sequence().size(); ++i)
    cfgs.push_back(RcnnTrainConfig::from_config(v.as_sequence()[i], train_cfg_path_ + "[" + std::to_string(i) + "]"));
  train_cfgs_ = std::move(cfgs);
  return train_cfgs_;
}

BBoxHeadOutputs CascadeRoIHead::bbox_forward(int64_t stage, const std::vector<torch::Tensor>& feats,
                                             const torch::Tensor& rois) {
  RoIExtractor& e = *bbox_roi_extractors_.at(static_cast<size_t>(stage));
  return bbox_heads_[static_cast<size_t>(stage)]->forward(e.forward(extractor_inputs(feats, e), rois));
}

torch::Tensor CascadeRoIHead::mask_forward(int64_t stage, const std::vector<torch::Tensor>& feats,
                                           const torch::Tensor& rois) {
  RoIExtractor& e = *mask_roi_extractors_.at(static_cast<size_t>(stage));
  return mask_heads_[static_cast<size_t>(stage)]->forward(e.forward(extractor_inputs(feats, e), rois));
}

torch::Tensor CascadeRoIHead::merged_mask_probs(const std::vector<torch::Tensor>& feats, const torch::Tensor& mask_rois,
                                                const torch::Tensor& labels, DebugTrace* trace) {
  torch::Tensor shared_feats;
  if (same_mask_features_)
    shared_feats = mask_roi_extractors_[0]->forward(extractor_inputs(feats, *mask_roi_extractors_[0]), mask_rois);
  torch::Tensor sum;  // [D, h, w]
  for (int64_t s = 0; s < num_stages(); ++s) {
    MaskHead& head = *mask_heads_[static_cast<size_t>(s)];
    const torch::Tensor mask_pred = same_mask_features_ ? head.forward(shared_feats) : mask_forward(s, feats, mask_rois);
    const torch::Tensor probs = head.label_probs(mask_pred, labels);
    if (trace) trace->record(stage_key("mask_head.stage", s, "prob"), probs);
    // np.mean over the stages: ((p0 + p1) + p2) / n in float32.
    sum = s == 0 ? probs : sum + probs;
  }
  return sum / static_cast<double>(num_stages());
}

std::vector<DetResult> CascadeRoIHead::simple_test(const std::vector<torch::Tensor>& feats,
                                                   const std::vector<torch::Tensor>& proposals,
                                                   const std::vector<ImageMeta>& metas, bool rescale,
                                                   DebugTrace* trace) {
  const RcnnTestConfig& cfg = test_cfg();
  const size_t num_imgs = proposals.size();
  const int64_t last = num_stages() - 1;
  const int64_t num_classes = bbox_heads_.back()->num_classes();
  torch::Tensor rois = bbox2roi(proposals);  // [R, 5]

  std::vector<Detections> dets(num_imgs, no_detections(rois));
  if (rois.size(0) > 0) {
    const torch::Tensor first5_proposals = rois.narrow(0, 0, std::min<int64_t>(5, rois.size(0)));
    torch::Tensor cls_sum;
    BBoxHeadOutputs out;
    for (int64_t s = 0; s <= last; ++s) {
      out = bbox_forward(s, feats, rois);
      if (trace) {
        if (s == 0) {
          trace->record("roi_head.cls_score", out.cls_score);
          if (out.bbox_pred.defined()) trace->record("roi_head.bbox_pred", out.bbox_pred);
        }
        trace->record(stage_key("roi_head.stage", s, "rois"), rois);
        trace->record(stage_key("roi_head.stage", s, "cls_score"), out.cls_score);
        if (out.bbox_pred.defined()) trace->record(stage_key("roi_head.stage", s, "bbox_pred"), out.bbox_pred);
        if (with_mask()) {
          const torch::Tensor m = mask_forward(s, feats, first5_proposals);
          if (s == 0) trace->record("mask_head.first5.mask_pred", m);
          trace->record(stage_key("mask_head.stage", s, "first5.mask_pred"), m);
        }
      }
      // Python's sum() over the stages (0 + s0 + s1 + ...), divided by num_stages below.
      cls_sum = s == 0 ? out.cls_score : cls_sum + out.cls_score;
      if (s == last) break;
      // Refine each image's RoIs with this stage's deltas of its top foreground class.
      std::vector<torch::Tensor> refined;
      int64_t start = 0;
      for (size_t i = 0; i < num_imgs; ++i) {
        const int64_t k = proposals[i].size(0);
        if (k == 0) continue;
        const torch::Tensor r = rois.narrow(0, start, k);
        const torch::Tensor label = out.cls_score.narrow(0, start, k).narrow(1, 0, out.cls_score.size(1) - 1).argmax(1);
        const torch::Tensor boxes =
            bbox_heads_[static_cast<size_t>(s)]->regress_by_class(r.narrow(1, 1, 4), label, out.bbox_pred.narrow(0, start, k),
                                                                 {metas[i].img_shape[0], metas[i].img_shape[1]});
        refined.push_back(torch::cat({r.narrow(1, 0, 1), boxes}, 1));
        start += k;
      }
      rois = torch::cat(refined);
      if (trace) trace->record(stage_key("roi_head.stage", s, "refined_rois"), rois);
    }
    const torch::Tensor cls_score = cls_sum / static_cast<double>(num_stages());
    if (trace) trace->record("roi_head.ensemble.cls_score", cls_score);
    int64_t start = 0;
    for (size_t i = 0; i < num_imgs; ++i) {
      const int64_t k = proposals[i].size(0);
      if (k == 0) continue;
      const BBoxHeadOutputs part{cls_score.narrow(0, start, k),
                                 out.bbox_pred.defined() ? out.bbox_pred.narrow(0, start, k) : torch::Tensor()};
      dets[i] = bbox_heads_.back()->get_bboxes(rois.narrow(0, start, k), part,
                                               {metas[i].img_shape[0], metas[i].img_shape[1]}, metas[i].scale_factor,
                                               rescale, cfg);
      start += k;
    }
  }
  if (trace)
    for (size_t i = 0; i < num_imgs; ++i) {
      trace->record("roi_head.dets." + std::to_string(i), dets[i].bboxes);
      trace->record("roi_head.det_labels." + std::to_string(i), dets[i].labels);
    }

  std::vector<torch::Tensor> masks(num_imgs);
  bool any_dets = false;
  for (const Detections& d : dets) any_dets = any_dets || d.bboxes.size(0) > 0;
  if (with_mask() && any_dets) {
    // Mask RoIs: the detections mapped back to the network input (x scale_factor, float32).
    std::vector<torch::Tensor> mask_boxes(num_imgs), labels(num_imgs);
    for (size_t i = 0; i < num_imgs; ++i) {
      const auto& sf = metas[i].scale_factor;
      const torch::Tensor b = dets[i].bboxes.narrow(1, 0, 4);
      mask_boxes[i] = rescale ? b * torch::tensor({sf[0], sf[1], sf[2], sf[3]}, b.options()) : b;
      labels[i] = dets[i].labels;
    }
    const torch::Tensor mask_rois = bbox2roi(mask_boxes);
    if (trace) trace->record("mask_head.rois", mask_rois);
    const torch::Tensor merged = merged_mask_probs(feats, mask_rois, torch::cat(labels), trace);
    if (trace) trace->record("mask_head.merged_prob", merged);
    int64_t start = 0;
    for (size_t i = 0; i < num_imgs; ++i) {
      const int64_t k = dets[i].bboxes.size(0);
      if (k == 0) continue;
      masks[i] = mask_heads_.back()->paste_masks(merged.narrow(0, start, k), mask_boxes[i], cfg.mask_thr_binary,
                                                 {metas[i].ori_shape[0], metas[i].ori_shape[1]}, metas[i].scale_factor,
                                                 rescale);
      start += k;
    }
  }
  std::vector<DetResult> results;
  for (size_t i = 0; i < num_imgs; ++i) {
    if (with_mask() && !masks[i].defined()) masks[i] = torch::zeros({0, metas[i].ori_shape[0], metas[i].ori_shape[1]}, torch::kBool);
    results.push_back(bbox2result(dets[i], masks[i], num_classes));
  }
  return results;
}

LossTerms CascadeRoIHead::forward_train(const std::vector<torch::Tensor>& feats,
                                        const std::vector<torch::Tensor>& proposals,
                                        const std::vector<ImageMeta>& metas, const std::vector<GtInstances>& gts,
                                        DebugTrace* trace) {
  const std::vector<RcnnTrainConfig>& cfgs = train_cfgs();
  if (proposals.size() != metas.size() || gts.size() != metas.size())
    throw UserError("RoI head training: " + std::to_string(proposals.size()) + " proposal sets and " +
                    std::to_string(gts.size()) + " ground truths for " + std::to_string(metas.size()) + " images");
  if (with_mask())
    for (size_t i = 0; i < gts.size(); ++i)
      if (!gts[i].masks.defined())
        throw UserError("image " + metas[i].filename + ": the mask head needs gt masks (LoadAnnotations with_mask=True)");

  LossTerms losses;
  std::vector<torch::Tensor> proposal_list;
  for (const torch::Tensor& p : proposals) proposal_list.push_back(p.detach());
  for (int64_t s = 0; s < num_stages(); ++s) {
    const RcnnTrainConfig& cfg = cfgs[static_cast<size_t>(s)];
    const double weight = stage_loss_weights_[static_cast<size_t>(s)];
    std::vector<SamplingResult> sampling_results;
    for (size_t i = 0; i < proposal_list.size(); ++i) {
      const GtInstances& gt = gts[i];
      const std::string b = "." + std::to_string(i);
      if (trace) trace->record(stage_key("roi_head.s", s, "proposals") + b, proposal_list[i]);
      AssignResult assigned = cfg.assigner->assign(proposal_list[i], gt.bboxes, gt.bboxes_ignore, gt.labels);
      sampling_results.push_back(cfg.sampler->sample(assigned, proposal_list[i], gt.bboxes, gt.labels));
      if (trace) {
        trace->record(stage_key("roi_head.s", s, "assign.gt_inds") + b, assigned.gt_inds);
        trace->record(stage_key("roi_head.s", s, "sampling.pos_gt_labels") + b, sampling_results.back().pos_gt_labels);
        trace->record(stage_key("roi_head.s", s, "sampling.pos_is_gt") + b, sampling_results.back().pos_is_gt);
      }
    }
    std::vector<torch::Tensor> sampled_boxes;
    for (const SamplingResult& r : sampling_results) sampled_boxes.push_back(r.bboxes());
    const torch::Tensor rois = bbox2roi(sampled_boxes);
    BBoxHead& head = *bbox_heads_[static_cast<size_t>(s)];
    const BBoxHeadOutputs out = bbox_forward(s, feats, rois);
    auto add = [&](const LossTerms& terms) {
      for (const auto& [name, value] : terms)
        losses.emplace_back("s" + std::to_string(s) + "." + name,
                            name.find("loss") != std::string::npos ? value * weight : value);
    };
    add(head.loss(out, rois, sampling_results, cfg.pos_weight));
    if (with_mask()) {
      std::vector<torch::Tensor> pos_boxes, gt_masks;
      for (size_t i = 0; i < sampling_results.size(); ++i) {
        pos_boxes.push_back(sampling_results[i].pos_bboxes);
        gt_masks.push_back(gts[i].masks);
      }
      const torch::Tensor mask_pred = mask_forward(s, feats, bbox2roi(pos_boxes));
      add(mask_heads_[static_cast<size_t>(s)]->loss(mask_pred, sampling_results, gt_masks, cfg.mask_size));
    }
    if (s == num_stages() - 1) break;

    torch::NoGradGuard no_grad;
    if (out.cls_score.numel() == 0) break;  // no RoI in the batch: mmdet stops here
    // The class each RoI is regressed with: its gt label for positives, else the stage's
    // top foreground class.
    std::vector<torch::Tensor> labels, pos_is_gts;
    for (const SamplingResult& r : sampling_results) {
      labels.push_back(r.pos_gt_labels);
      labels.push_back(torch::full({r.neg_bboxes.size(0)}, head.num_classes(), r.pos_gt_labels.options()));
      pos_is_gts.push_back(r.pos_is_gt);
    }
    torch::Tensor roi_labels = torch::cat(labels);
    const torch::Tensor cls_score = out.cls_score.detach();
    roi_labels = torch::where(roi_labels == head.num_classes(),
                              cls_score.narrow(1, 0, cls_score.size(1) - 1).argmax(1), roi_labels);
    proposal_list = refine_bboxes(head, rois, roi_labels, out.bbox_pred.detach(), pos_is_gts, metas);
  }
  return losses;
}

}  // namespace cppdet::models
