#pragma once
// mmdet 2.x SingleStageDetector (RetinaNet, FCOS, ATSS, GFL): backbone -> neck -> bbox_head, whose test-time
// post-processing uses the whole model.test_cfg. Children: backbone, neck, bbox_head.
#include <memory>
#include <string>

#include "cppdet/models/backbones/backbone.h"
#include "cppdet/models/dense_heads/dense_head.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/necks/neck.h"

namespace cppdet::models {

class SingleStageDetector : public Detector {
 public:
  SingleStageDetector(const config::Value& cfg, const std::string& path, const std::string& type_name);

  // mmdet's SingleStageDetector.forward_train: features -> bbox_head losses with the whole
  // train_cfg (loss_cls, loss_bbox, and the head's own terms: loss_centerness, loss_dfl).
  LossTerms forward_train(const DetBatch& batch) override;
  std::vector<DetResult> simple_test(const torch::Tensor& img, const std::vector<ImageMeta>& metas,
                                     bool rescale = true, DebugTrace* trace = nullptr) override;
  bool with_mask() const override { return false; }

  std::vector<torch::Tensor> extract_feat(const torch::Tensor& img, DebugTrace* trace = nullptr);
  DenseHead& bbox_head() { return *bbox_head_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<Neck> neck_;
  std::shared_ptr<DenseHead> bbox_head_;
};

}  // namespace cppdet::models
