#pragma once
// mmdet 2.x CascadeRoIHead (Cascade R-CNN / Cascade Mask R-CNN): num_stages box stages, each
// with its own RoI extractor, bbox head (and coder stds), assigner and sampler, and optional
// per-stage mask heads. Children (MMDetection's state_dict names): bbox_roi_extractor.<i>,
// bbox_head.<i>, mask_head.<i>, mask_roi_extractor.<i> (ModuleLists).
//
// Test (simple_test):
//  * stage i runs on the RoIs refined by stage i-1 (stage 0: the RPN proposals); between
//    stages every RoI is moved by regress_by_class with label argmax(cls_score[:, :-1]) of
//    that stage, clipped to its image's img_shape (no filtering, NMS or re-sorting);
//  * cls_score = ((s0 + s1) + s2 ...) / num_stages over the stages' raw logits, then the last
//    bbox head's get_bboxes (softmax, its deltas decoded on the RoIs fed to it, rescale,
//    multiclass NMS);
//  * masks: every stage's mask head on the same RoIs (detections x scale_factor), sigmoid
//    probabilities of the label channel averaged over the stages ((p0 + p1) + p2) / n
//    (mmdet's merge_aug_masks), pasted by the last mask head at ori_shape.
// Training (forward_train): per stage assign + sample the current proposals
// (train_cfg.rcnn[i]), bbox (+ mask) losses named "s<i>.<name>", each "*loss*" term times
// stage_loss_weights[i] ("acc" unweighted); between stages refine_bboxes on the sampled RoIs.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/models/roi_heads/standard_roi_head.h"

namespace cppdet::models {

struct CascadeRoIHeadOptions {
  int64_t num_stages = 0;
  std::vector<double> stage_loss_weights;
  // Per stage (a single dict in the config is used for every stage); key paths beside them.
  std::vector<config::Value> bbox_roi_extractor, bbox_head, mask_roi_extractor, mask_head;
  std::vector<std::string> bbox_roi_extractor_path, bbox_head_path, mask_roi_extractor_path, mask_head_path;
  std::optional<RcnnTestConfig> test_cfg;
  config::Value train_cfg;  // train_cfg.rcnn: a list of num_stages dicts, parsed on the first forward_train
  std::string train_cfg_path;

  // Keys: num_stages, stage_loss_weights, bbox_roi_extractor, bbox_head, mask_roi_extractor,
  // mask_head (each a dict or a list of num_stages dicts), shared_head (must be None),
  // init_cfg, pretrained.
  static CascadeRoIHeadOptions from_config(const config::Value& cfg, const std::string& path,
                                           const HeadConfigs& head_cfgs);
};

// mmdet's BBoxHead.refine_bboxes (training, between stages): `rois` [R, 5] are the sampled
// RoIs of the batch (per image: positives, then negatives), `labels` [R] the class each row
// is regressed with, `bbox_pred` [R, 4 or 4 * C] the stage's deltas, `pos_is_gts` per image
// [P_i] uint8 (1: the positive is a gt added as a proposal). Returns per image the regressed
// boxes [M_i, 4] (clipped to its img_shape) without the gt rows, in the sampled order.
std::vector<torch::Tensor> refine_bboxes(const BBoxHead& head, const torch::Tensor& rois, const torch::Tensor& labels,
                                         const torch::Tensor& bbox_pred, const std::vector<torch::Tensor>& pos_is_gts,
                                         const std::vector<ImageMeta>& metas);

class CascadeRoIHead : public RoIHead {
 public:
  explicit CascadeRoIHead(const CascadeRoIHeadOptions& options);

  // Records in `trace` (i = stage): "roi_head.cls_score" / "roi_head.bbox_pred" (stage 0, as
  // the standard head), "roi_head.stage<i>.rois" [R, 5] fed to stage i,
  // "roi_head.stage<i>.cls_score" [R, C + 1], "roi_head.stage<i>.bbox_pred",
  // "roi_head.stage<i>.refined_rois" [R, 5] (i < last: the next stage's RoIs),
  // "roi_head.ensemble.cls_score" [R, C + 1] (the averaged logits), "roi_head.dets.<b>" [K, 5]
  // and "roi_head.det_labels.<b>" (multiclass NMS output of image b); mask models also
  // "mask_head.first5.mask_pred" (stage 0 on the first 5 proposals),
  // "mask_head.stage<i>.first5.mask_pred", "mask_head.rois" [D, 5] (detections x scale_factor
  // of the batch), "mask_head.stage<i>.prob" and "mask_head.merged_prob" [D, h, w] (label
  // channel).
  std::vector<DetResult> simple_test(const std::vector<torch::Tensor>& feats, const std::vector<torch::Tensor>& proposals,
                                     const std::vector<ImageMeta>& metas, bool rescale, DebugTrace* trace) override;
  // Records per stage i and image b: "roi_head.s<i>.proposals.<b>" (the stage's input
  // proposals), "roi_head.s<i>.assign.gt_inds.<b>" (after the sampler added the gts),
  // "roi_head.s<i>.sampling.pos_gt_labels.<b>" and "roi_head.s<i>.sampling.pos_is_gt.<b>".
  LossTerms forward_train(const std::vector<torch::Tensor>& feats, const std::vector<torch::Tensor>& proposals,
                          const std::vector<ImageMeta>& metas, const std::vector<GtInstances>& gts,
                          DebugTrace* trace = nullptr) override;
  bool with_mask() const override { return !mask_heads_.empty(); }
  int64_t num_classes() const override { return bbox_heads_.back()->num_classes(); }

  int64_t num_stages() const { return static_cast<int64_t>(bbox_heads_.size()); }
  BBoxHead& bbox_head(int64_t stage) { return *bbox_heads_.at(static_cast<size_t>(stage)); }
  MaskHead& mask_head(int64_t stage) { return *mask_heads_.at(static_cast<size_t>(stage)); }
  BBoxHeadOutputs bbox_forward(int64_t stage, const std::vector<torch::Tensor>& feats, const torch::Tensor& rois);
  torch::Tensor mask_forward(int64_t stage, const std::vector<torch::Tensor>& feats, const torch::Tensor& rois);

 private:
  const RcnnTestConfig& test_cfg() const;
  const std::vector<RcnnTrainConfig>& train_cfgs();
  // Mask probabilities of the label channel, averaged over the stages: [D, h, w].
  torch::Tensor merged_mask_probs(const std::vector<torch::Tensor>& feats, const torch::Tensor& mask_rois,
                                  const torch::Tensor& labels, DebugTrace* trace);

  std::vector<double> stage_loss_weights_;
  std::optional<RcnnTestConfig> test_cfg_;
  config::Value train_cfg_value_;
  std::string train_cfg_path_;
  std::vector<RcnnTrainConfig> train_cfgs_;
  std::vector<std::shared_ptr<RoIExtractor>> bbox_roi_extractors_, mask_roi_extractors_;
  std::vector<std::shared_ptr<BBoxHead>> bbox_heads_;
  std::vector<std::shared_ptr<MaskHead>> mask_heads_;
  // Every stage's mask RoI extractor has the same config and no parameters: their features
  // for the same RoIs are the same, so test time pools them once.
  bool same_mask_features_ = false;
};

}  // namespace cppdet::models
