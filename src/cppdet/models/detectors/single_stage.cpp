#include "cppdet/models/detectors/single_stage.h"

#include <c10/core/InferenceMode.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/detectors/detector_common.h"

namespace cppdet::models {

SingleStageDetector::SingleStageDetector(const config::Value& cfg, const std::string& path, const std::string& type_name)
    : Detector(type_name, config_num_classes(cfg, "bbox_head")) {
  config::ConfigReader r(cfg, path);
  const config::Value* train_cfg = r.get_optional("train_cfg");
  const config::Value* test_cfg = r.get_optional("test_cfg");
  backbone_ = register_module("backbone", backbone_registry().build(r.get("backbone"), r.path_of("backbone")));
  if (const config::Value* neck = r.get_optional("neck"))
    neck_ = register_module("neck", neck_registry().build(*neck, r.path_of("neck")));
  bbox_head_ = register_module("bbox_head", dense_head_registry().build(r.get("bbox_head"), r.path_of("bbox_head"),
                                                                       head_configs(train_cfg, test_cfg, path, nullptr)));
  r.ignore({"pretrained", "init_cfg"});
  r.finish();
}

std::vector<torch::Tensor> SingleStageDetector::extract_feat(const torch::Tensor& img, DebugTrace* trace) {
  return run_backbone_and_neck(*backbone_, neck_.get(), img, trace);
}

LossTerms SingleStageDetector::forward_train(const DetBatch& batch) {
  const std::vector<GtInstances> gts = gts_on_device(batch, batch.img.device());
  const DenseHeadOutputs out = bbox_head_->forward(extract_feat(batch.img));
  return bbox_head_->loss(out, batch.metas, gts);
}

std::vector<DetResult> SingleStageDetector::simple_test(const torch::Tensor& img, const std::vector<ImageMeta>& metas,
                                                        bool rescale, DebugTrace* trace) {
  check_batch(img, metas);
  c10::InferenceMode guard;
  const std::vector<torch::Tensor> x = extract_feat(img, trace);
  const DenseHeadOutputs out = bbox_head_->forward(x);
  if (trace) {
    for (size_t i = 0; i < out.cls_scores.size(); ++i) {
      trace->record("bbox_head.cls_score." + std::to_string(i), out.cls_scores[i]);
      trace->record("bbox_head.bbox_pred." + std::to_string(i), out.bbox_preds[i]);
      if (!out.score_factors.empty()) trace->record("bbox_head.score_factor." + std::to_string(i), out.score_factors[i]);
    }
  }
  const std::vector<Detections> dets = bbox_head_->get_bboxes(out, metas, rescale);
  std::vector<DetResult> results;
  for (const Detections& d : dets) {
    const torch::Tensor boxes = d.bboxes.to(torch::kCPU);
    const torch::Tensor labels = d.labels.to(torch::kCPU);
    DetResult r;
    for (int64_t c = 0; c < bbox_head_->num_classes(); ++c)
      r.bboxes.push_back(boxes.index_select(0, (labels == c).nonzero().squeeze(1)));
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace cppdet::models
