#include "cppdet/models/detectors/two_stage.h"

#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <typeinfo>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/detectors/detector_common.h"
#include "cppdet/models/necks/fpn.h"
#include "cppdet/models/precision/activation.h"
#include "cppdet/models/roi_heads/bbox_heads/convfc_bbox_head.h"
#include "cppdet/models/roi_heads/mask_heads/fcn_mask_head.h"
#include "cppdet/models/roi_heads/standard_roi_head.h"

namespace cppdet::models {

TwoStageDetector::TwoStageDetector(const config::Value& cfg, const std::string& path, const std::string& type_name)
    : Detector(type_name, config_num_classes(cfg, "roi_head")) {
  config::ConfigReader r(cfg, path);
  const config::Value* train_cfg = r.get_optional("train_cfg");
  const config::Value* test_cfg = r.get_optional("test_cfg");
  backbone_ = register_module("backbone", backbone_registry().build(r.get("backbone"), r.path_of("backbone")));
  if (const config::Value* neck = r.get_optional("neck"))
    neck_ = register_module("neck", neck_registry().build(*neck, r.path_of("neck")));
  const config::Value* rpn = r.get_optional("rpn_head");
  const config::Value* roi = r.get_optional("roi_head");
  if (!rpn) throw ConfigError(r.path_of("rpn_head") + ": required for a two-stage detector at test time");
  if (!roi) throw ConfigError(r.path_of("roi_head") + ": required key is missing");
  rpn_head_ = register_module("rpn_head", dense_head_registry().build(*rpn, r.path_of("rpn_head"),
                                                                     head_configs(train_cfg, test_cfg, path, "rpn")));
  if (!dynamic_cast<RPNHead*>(rpn_head_.get()))
    throw ConfigError(r.path_of("rpn_head.type") + ": a two-stage detector needs an RPN head");
  roi_head_ = register_module("roi_head", roi_head_registry().build(*roi, r.path_of("roi_head"),
                                                                   head_configs(train_cfg, test_cfg, path, "rcnn")));
  if (train_cfg && train_cfg->is_dict())
    if (const config::Value* v = train_cfg->as_dict().find("rpn_proposal"); v && !v->is_none()) {
      rpn_proposal_cfg_ = *v;
      rpn_proposal_path_ = r.path_of("train_cfg") + ".rpn_proposal";
    }
  r.ignore({"pretrained", "init_cfg"});
  r.finish();
}

LossTerms TwoStageDetector::forward_train(const DetBatch& batch, DebugTrace* trace) {
  const std::vector<GtInstances> gts = gts_on_device(batch, batch.img.device());
  auto& rpn = static_cast<RPNHead&>(*rpn_head_);
  if (!rpn_proposal_) {
    if (!rpn_proposal_cfg_.is_none())
      rpn_proposal_ = DenseTestConfig::from_config(rpn_proposal_cfg_, rpn_proposal_path_);
    else if (rpn.options().test_cfg)
      rpn_proposal_ = *rpn.options().test_cfg;
    else
      throw ConfigError("model.train_cfg.rpn_proposal: required to train (no test_cfg.rpn either)");
  }
  const std::vector<torch::Tensor> x = extract_feat(batch.img);
  const DenseHeadOutputs rpn_out = rpn.forward(x);
  LossTerms losses = rpn.loss(rpn_out, batch.metas, gts, trace);
  std::vector<torch::Tensor> proposals;
  {
    torch::NoGradGuard no_grad;
    proposals = rpn.proposals(rpn_out, batch.metas, *rpn_proposal_);
  }
  if (trace)
    for (size_t i = 0; i < proposals.size(); ++i) trace->record("rpn_proposals." + std::to_string(i), proposals[i]);
  for (auto& term : roi_head_->forward_train(x, proposals, batch.metas, gts, trace)) losses.push_back(term);
  return losses;
}

std::vector<torch::Tensor> TwoStageDetector::extract_feat(const torch::Tensor& img, DebugTrace* trace) {
  return run_backbone_and_neck(*backbone_, neck_.get(), img, trace);
}

std::vector<DetResult> TwoStageDetector::simple_test(const torch::Tensor& img, const std::vector<ImageMeta>& metas,
                                                     bool rescale, DebugTrace* trace) {
  check_batch(img, metas);
  c10::InferenceMode guard;
  const std::vector<torch::Tensor> x = extract_feat(img, trace);
  auto& rpn = static_cast<RPNHead&>(*rpn_head_);
  const DenseHeadOutputs rpn_out = rpn.forward(x);
  if (trace) {
    for (size_t i = 0; i < rpn_out.cls_scores.size(); ++i) {
      trace->record("rpn_head.cls_score." + std::to_string(i), rpn_out.cls_scores[i]);
      trace->record("rpn_head.bbox_pred." + std::to_string(i), rpn_out.bbox_preds[i]);
    }
  }
  const std::vector<torch::Tensor> proposals = rpn.simple_test_rpn(rpn_out, metas);
  if (trace)
    for (size_t i = 0; i < proposals.size(); ++i) trace->record("rpn_proposals." + std::to_string(i), proposals[i]);
  // RoIAlign pools from float32 maps (bf16 / int8 features are converted once, here).
  std::vector<torch::Tensor> feats;
  for (const torch::Tensor& level : x) feats.push_back(to_float(level));
  return roi_head_->simple_test(feats, proposals, metas, rescale, trace);
}

std::string TwoStageDetector::reduced_precision_limitation() const {
  auto unsupported = [](const std::string& what, const torch::nn::Module& m) {
    return what + " " + m.name() + " has no bf16 / int8 path (supported: ResNet backbone, FPN, RPNHead, "
           "StandardRoIHead with ConvFCBBoxHead / FCNMaskHead)";
  };
  if (neck_ && typeid(*neck_) != typeid(FPN)) return unsupported("the neck", *neck_);
  if (typeid(*rpn_head_) != typeid(RPNHead)) return unsupported("the RPN head", *rpn_head_);
  if (typeid(*roi_head_) != typeid(StandardRoIHead)) return unsupported("the RoI head", *roi_head_);
  for (const auto& child : roi_head_->named_children()) {
    const torch::nn::Module& m = *child.value();
    if (child.key() == "bbox_head" && typeid(m) != typeid(ConvFCBBoxHead)) return unsupported("the bbox head", m);
    if (child.key() == "mask_head" && typeid(m) != typeid(FCNMaskHead)) return unsupported("the mask head", m);
  }
  return "";
}

}  // namespace cppdet::models
