#include "cppdet/models/detectors/two_stage.h"

#include <c10/core/InferenceMode.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/detectors/detector_common.h"

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
  r.ignore({"pretrained", "init_cfg"});
  r.finish();
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
  return roi_head_->simple_test(x, proposals, metas, rescale, trace);
}

}  // namespace cppdet::models
