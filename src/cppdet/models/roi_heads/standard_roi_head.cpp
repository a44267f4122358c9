#include "cppdet/models/roi_heads/standard_roi_head.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

RcnnTestConfig rcnn_test_config_from(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  RcnnTestConfig c;
  c.score_thr = r.get_number("score_thr");
  c.nms = NmsConfig::from_config(r.get("nms"), r.path_of("nms"));
  c.max_per_img = r.get_int("max_per_img");
  c.mask_thr_binary = r.get_number("mask_thr_binary", 0.5);
  r.finish();
  return c;
}

StandardRoIHeadOptions StandardRoIHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                                           const HeadConfigs& head_cfgs) {
  config::ConfigReader r(cfg, path);
  StandardRoIHeadOptions o;
  o.path = path;
  if (const config::Value* v = r.get_optional("bbox_roi_extractor")) o.bbox_roi_extractor = *v;
  if (const config::Value* v = r.get_optional("bbox_head")) o.bbox_head = *v;
  if (const config::Value* v = r.get_optional("mask_roi_extractor")) o.mask_roi_extractor = *v;
  if (const config::Value* v = r.get_optional("mask_head")) o.mask_head = *v;
  if (r.get_optional("shared_head")) throw ConfigError(r.path_of("shared_head") + ": shared heads are not supported");
  r.ignore({"init_cfg", "pretrained", "train_cfg", "test_cfg"});
  r.finish();
  if (o.bbox_head.is_none()) throw ConfigError(r.path_of("bbox_head") + ": required key is missing");
  if (o.bbox_roi_extractor.is_none()) throw ConfigError(r.path_of("bbox_roi_extractor") + ": required key is missing");
  if (!head_cfgs.test_cfg.is_none()) o.test_cfg = rcnn_test_config_from(head_cfgs.test_cfg, head_cfgs.test_cfg_path);
  o.train_cfg = head_cfgs.train_cfg;
  o.train_cfg_path = head_cfgs.train_cfg_path;
  return o;
}

RcnnTrainConfig RcnnTrainConfig::from_config(const config::Value& cfg, const std::string& path) {
  if (cfg.is_none()) throw ConfigError(path + ": the RoI head's training settings are missing");
  config::ConfigReader r(cfg, path);
  RcnnTrainConfig c;
  c.assigner = bbox_assigner_registry().build(r.get("assigner"), r.path_of("assigner"));
  c.sampler = bbox_sampler_registry().build(r.get("sampler"), r.path_of("sampler"));
  c.pos_weight = r.get_number("pos_weight", -1);
  if (r.has("mask_size")) {
    const std::vector<int64_t> size = r.get_int_or_ints("mask_size", 2);
    c.mask_size = {size[0], size[1]};
  }
  r.get_bool("debug", false);
  r.finish();
  return c;
}

torch::Tensor bbox2roi(const std::vector<torch::Tensor>& bboxes) {
  std::vector<torch::Tensor> rois;
  for (size_t i = 0; i < bboxes.size(); ++i) {
    const torch::Tensor& b = bboxes[i];
    if (b.size(0) > 0) {
      rois.push_back(torch::cat({torch::full({b.size(0), 1}, static_cast<double>(i), b.options()), b.narrow(1, 0, 4)}, -1));
    } else {
      rois.push_back(b.new_zeros({0, 5}));
    }
  }
  return torch::cat(rois, 0);
}

DetResult bbox2result(const Detections& dets, const torch::Tensor& masks, int64_t num_classes) {
  const torch::Tensor boxes = dets.bboxes.to(torch::kCPU);
  const torch::Tensor labels = dets.labels.to(torch::kCPU);
  const torch::Tensor cpu_masks = masks.defined() ? masks.to(torch::kCPU) : masks;
  DetResult r;
  for (int64_t c = 0; c < num_classes; ++c) {
    const torch::Tensor idx = (labels == c).nonzero().squeeze(1);
    r.bboxes.push_back(boxes.index_select(0, idx));
    if (cpu_masks.defined()) r.masks.push_back(cpu_masks.index_select(0, idx));
  }
  return r;
}

StandardRoIHead::StandardRoIHead(const StandardRoIHeadOptions& o)
    : test_cfg_(o.test_cfg), train_cfg_value_(o.train_cfg), train_cfg_path_(o.train_cfg_path) {
  bbox_roi_extractor_ = register_module("bbox_roi_extractor",
                                        roi_extractor_registry().build(o.bbox_roi_extractor, o.path + ".bbox_roi_extractor"));
  bbox_head_ = register_module("bbox_head", bbox_head_registry().build(o.bbox_head, o.path + ".bbox_head"));
  if (!o.mask_head.is_none()) {
    if (!o.mask_roi_extractor.is_none())
      mask_roi_extractor_ = register_module(
          "mask_roi_extractor", roi_extractor_registry().build(o.mask_roi_extractor, o.path + ".mask_roi_extractor"));
    else
      mask_roi_extractor_ = bbox_roi_extractor_;  // share_roi_extractor
    mask_head_ = register_module("mask_head", mask_head_registry().build(o.mask_head, o.path + ".mask_head"));
  }
}

const RcnnTestConfig& StandardRoIHead::test_cfg() const {
  if (!test_cfg_) throw ConfigError("model.test_cfg.rcnn: missing the RoI head's test settings");
  return *test_cfg_;
}

std::vector<torch::Tensor> StandardRoIHead::select_inputs(const std::vector<torch::Tensor>& feats,
                                                          const RoIExtractor& e) const {
  const size_t n = std::min(feats.size(), static_cast<size_t>(e.num_inputs()));
  return {feats.begin(), feats.begin() + static_cast<std::ptrdiff_t>(n)};
}

BBoxHeadOutputs StandardRoIHead::bbox_forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois) {
  return bbox_head_->forward(bbox_roi_extractor_->forward(select_inputs(feats, *bbox_roi_extractor_), rois));
}

torch::Tensor StandardRoIHead::mask_forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois) {
  return mask_head_->forward(mask_roi_extractor_->forward(select_inputs(feats, *mask_roi_extractor_), rois));
}

LossTerms StandardRoIHead::forward_train(const std::vector<torch::Tensor>& feats,
                                         const std::vector<torch::Tensor>& proposals,
                                         const std::vector<ImageMeta>& metas, const std::vector<GtInstances>& gts,
                                         DebugTrace* trace) {
  if (!train_cfg_)
    train_cfg_ = RcnnTrainConfig::from_config(train_cfg_value_, train_cfg_path_.empty() ? "model.train_cfg.rcnn" : train_cfg_path_);
  const RcnnTrainConfig& cfg = *train_cfg_;
  if (proposals.size() != metas.size() || gts.size() != metas.size())
    throw UserError("RoI head training: " + std::to_string(proposals.size()) + " proposal sets and " +
                    std::to_string(gts.size()) + " ground truths for " + std::to_string(metas.size()) + " images");
  std::vector<SamplingResult> sampling_results;
  for (size_t i = 0; i < proposals.size(); ++i) {
    const GtInstances& gt = gts[i];
    const torch::Tensor props = proposals[i].detach();
    AssignResult assigned = cfg.assigner->assign(props, gt.bboxes, gt.bboxes_ignore, gt.labels);
    if (trace) trace->record("roi_head.assign.gt_inds." + std::to_string(i), assigned.gt_inds);
    sampling_results.push_back(cfg.sampler->sample(assigned, props, gt.bboxes, gt.labels));
    if (trace) trace->record("roi_head.sampling.pos_gt_labels." + std::to_string(i), sampling_results.back().pos_gt_labels);
  }
  std::vector<torch::Tensor> sampled_boxes;
  for (const SamplingResult& s : sampling_results) sampled_boxes.push_back(s.bboxes());
  const torch::Tensor rois = bbox2roi(sampled_boxes);
  LossTerms losses = bbox_head_->loss(bbox_forward(feats, rois), rois, sampling_results, cfg.pos_weight);
  if (mask_head_) {
    std::vector<torch::Tensor> pos_boxes, gt_masks;
    for (size_t i = 0; i < sampling_results.size(); ++i) {
      pos_boxes.push_back(sampling_results[i].pos_bboxes);
      if (!gts[i].masks.defined())
        throw UserError("image " + metas[i].filename + ": the mask head needs gt masks (LoadAnnotations with_mask=True)");
      gt_masks.push_back(gts[i].masks);
    }
    const torch::Tensor mask_pred = mask_forward(feats, bbox2roi(pos_boxes));
    for (auto& term : mask_head_->loss(mask_pred, sampling_results, gt_masks, cfg.mask_size)) losses.push_back(term);
  }
  return losses;
}

std::vector<DetResult> StandardRoIHead::simple_test(const std::vector<torch::Tensor>& feats,
                                                    const std::vector<torch::Tensor>& proposals,
                                                    const std::vector<ImageMeta>& metas, bool rescale,
                                                    DebugTrace* trace) {
  const RcnnTestConfig& cfg = test_cfg();
  const int64_t num_classes = bbox_head_->num_classes();
  const size_t num_imgs = proposals.size();
  const torch::Tensor rois = bbox2roi(proposals);

  std::vector<Detections> dets(num_imgs);
  if (rois.size(0) == 0) {
    for (auto& d : dets) d = {rois.new_zeros({0, 5}), torch::zeros({0}, rois.options().dtype(torch::kLong))};
  } else {
    const BBoxHeadOutputs out = bbox_forward(feats, rois);
    if (trace) {
      trace->record("roi_head.cls_score", out.cls_score);
      if (out.bbox_pred.defined()) trace->record("roi_head.bbox_pred", out.bbox_pred);
      if (mask_head_) trace->record("mask_head.first5.mask_pred", mask_forward(feats, rois.narrow(0, 0, std::min<int64_t>(5, rois.size(0)))));
    }
    int64_t start = 0;
    for (size_t i = 0; i < num_imgs; ++i) {
      const int64_t k = proposals[i].size(0);
      if (k == 0) {
        dets[i] = {rois.new_zeros({0, 5}), torch::zeros({0}, rois.options().dtype(torch::kLong))};
        continue;
      }
      BBoxHeadOutputs part{out.cls_score.narrow(0, start, k),
                           out.bbox_pred.defined() ? out.bbox_pred.narrow(0, start, k) : torch::Tensor()};
      dets[i] = bbox_head_->get_bboxes(rois.narrow(0, start, k), part, {metas[i].img_shape[0], metas[i].img_shape[1]},
                                       metas[i].scale_factor, rescale, cfg);
      start += k;
    }
  }

  // bbox2result (+ masks): per class, rows in detection order.
  std::vector<DetResult> results(num_imgs);
  std::vector<torch::Tensor> mask_boxes(num_imgs);
  torch::Tensor mask_pred;
  bool any_dets = false;
  for (size_t i = 0; i < num_imgs; ++i) any_dets = any_dets || dets[i].bboxes.size(0) > 0;
  if (mask_head_ && any_dets) {
    for (size_t i = 0; i < num_imgs; ++i) {
      const auto& sf = metas[i].scale_factor;
      torch::Tensor b = dets[i].bboxes.narrow(1, 0, 4);
      mask_boxes[i] = rescale ? b * torch::tensor({sf[0], sf[1], sf[2], sf[3]}, b.options()) : b;
    }
    mask_pred = mask_forward(feats, bbox2roi(mask_boxes));
  }
  int64_t mask_start = 0;
  for (size_t i = 0; i < num_imgs; ++i) {
    torch::Tensor masks;
    if (mask_head_) {
      const auto& m = metas[i];
      const int64_t k = dets[i].bboxes.size(0);
      if (k > 0) {
        masks = mask_head_->get_seg_masks(mask_pred.narrow(0, mask_start, k), mask_boxes[i], dets[i].labels,
                                          cfg.mask_thr_binary, {m.ori_shape[0], m.ori_shape[1]}, m.scale_factor, rescale);
        mask_start += k;
      } else {
        masks = torch::zeros({0, m.ori_shape[0], m.ori_shape[1]}, torch::kBool);
      }
    }
    results[i] = bbox2result(dets[i], masks, num_classes);
  }
  return results;
}

}  // namespace cppdet::models
