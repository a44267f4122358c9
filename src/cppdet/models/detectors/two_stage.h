#pragma once
// mmdet 2.x TwoStageDetector (FasterRCNN, MaskRCNN, CascadeRCNN): backbone -> neck -> rpn_head
// proposals (test_cfg.rpn) -> roi_head (test_cfg.rcnn; CascadeRoIHead for CascadeRCNN, whose
// own class only adds result formatting in MMDetection). Children: backbone, neck, rpn_head,
// roi_head.
#include <memory>
#include <string>

#include <optional>

#include "cppdet/models/backbones/backbone.h"
#include "cppdet/models/dense_heads/anchor_head.h"
#include "cppdet/models/dense_heads/rpn_head.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/necks/neck.h"
#include "cppdet/models/roi_heads/roi_head.h"

namespace cppdet::models {

class TwoStageDetector : public Detector {
 public:
  // `type_name` is the registered name ("FasterRCNN", "MaskRCNN", "TwoStageDetector").
  TwoStageDetector(const config::Value& cfg, const std::string& path, const std::string& type_name);

  // mmdet's TwoStageDetector.forward_train: features -> RPN losses (train_cfg.rpn) and
  // proposals from the detached RPN outputs (train_cfg.rpn_proposal, else test_cfg.rpn) ->
  // RoI head losses. Returns loss_rpn_cls, loss_rpn_bbox, loss_cls, acc, loss_bbox[, loss_mask].
  LossTerms forward_train(const DetBatch& batch) override { return forward_train(batch, nullptr); }
  // The same, recording in `trace` the RPN / RoI-head assignments ("rpn_head.assign.*",
  // "roi_head.assign.*", "roi_head.sampling.*") and "rpn_proposals.<b>".
  LossTerms forward_train(const DetBatch& batch, DebugTrace* trace);
  std::vector<DetResult> simple_test(const torch::Tensor& img, const std::vector<ImageMeta>& metas,
                                     bool rescale = true, DebugTrace* trace = nullptr) override;
  bool with_mask() const override { return roi_head_->with_mask(); }
  // "" for an FPN (or no neck), an RPNHead and a StandardRoIHead with a ConvFCBBoxHead and an
  // FCNMaskHead, any backbone (one without a prepared path runs fp32 and hands float features on).
  std::string reduced_precision_limitation() const override;

  std::vector<torch::Tensor> extract_feat(const torch::Tensor& img, DebugTrace* trace = nullptr);
  Backbone& backbone() { return *backbone_; }
  Neck* neck() { return neck_.get(); }
  DenseHead& rpn_head() { return *rpn_head_; }
  RoIHead& roi_head() { return *roi_head_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<Neck> neck_;
  std::shared_ptr<DenseHead> rpn_head_;
  std::shared_ptr<RoIHead> roi_head_;
  config::Value rpn_proposal_cfg_;  // train_cfg.rpn_proposal (None: use test_cfg.rpn)
  std::string rpn_proposal_path_;
  std::optional<DenseTestConfig> rpn_proposal_;
};


}  // namespace cppdet::models
