#pragma once
// mmdet 2.x StandardRoIHead (inference): box branch (RoI extractor -> bbox head ->
// decode / rescale / multiclass NMS) and optional mask branch (mask RoIs = detections
// multiplied back by scale_factor -> RoI extractor -> mask head -> paste into ori_shape).
// Children: bbox_roi_extractor, bbox_head, mask_roi_extractor, mask_head.
#include <memory>
#include <optional>

#include "cppdet/models/registries.h"
#include "cppdet/models/roi_heads/bbox_heads/bbox_head.h"
#include "cppdet/models/roi_heads/mask_heads/mask_head.h"
#include "cppdet/models/roi_heads/roi_extractors/roi_extractor.h"
#include "cppdet/models/roi_heads/roi_head.h"
#include "cppdet/models/task/assigner.h"
#include "cppdet/models/task/sampler.h"

namespace cppdet::models {

// train_cfg.rcnn: assigner, sampler, pos_weight (-1: 1.0), mask_size (28; int or pair),
// debug (ignored).
struct RcnnTrainConfig {
  std::shared_ptr<BBoxAssigner> assigner;
  std::shared_ptr<BBoxSampler> sampler;
  double pos_weight = -1;
  std::pair<int64_t, int64_t> mask_size{28, 28};

  static RcnnTrainConfig from_config(const config::Value& cfg, const std::string& path);
};

struct StandardRoIHeadOptions {
  config::Value bbox_roi_extractor, bbox_head, mask_roi_extractor, mask_head;
  std::string path;
  std::optional<RcnnTestConfig> test_cfg;
  config::Value train_cfg;  // parsed on the first forward_train
  std::string train_cfg_path;

  static StandardRoIHeadOptions from_config(const config::Value& cfg, const std::string& path,
                                            const HeadConfigs& head_cfgs);
};

// test_cfg.rcnn: score_thr, nms, max_per_img, mask_thr_binary.
RcnnTestConfig rcnn_test_config_from(const config::Value& cfg, const std::string& path);

// [R, 5] (batch_index, x1, y1, x2, y2) from per-image [k, >= 4] boxes (mmdet's bbox2roi).
torch::Tensor bbox2roi(const std::vector<torch::Tensor>& bboxes);

// mmdet's bbox2result (+ the per-class mask lists) for one image: per class the rows of
// `dets` with that label, in detection order, and the matching rows of `masks` [K, H, W]
// (undefined for box-only models). CPU tensors.
DetResult bbox2result(const Detections& dets, const torch::Tensor& masks, int64_t num_classes);

class StandardRoIHead : public RoIHead {
 public:
  explicit StandardRoIHead(const StandardRoIHeadOptions& options);
  std::vector<DetResult> simple_test(const std::vector<torch::Tensor>& feats, const std::vector<torch::Tensor>& proposals,
                                     const std::vector<ImageMeta>& metas, bool rescale, DebugTrace* trace) override;
  // Per image: assign + sample the proposals (train_cfg.rcnn), then the bbox head loss on
  // all sampled RoIs and, with a mask head, the mask loss on the positives (features from the
  // mask RoI extractor). Records "roi_head.assign.gt_inds.<b>" (assigner output on the
  // proposals) and "roi_head.sampling.pos_gt_labels.<b>" in `trace`.
  LossTerms forward_train(const std::vector<torch::Tensor>& feats, const std::vector<torch::Tensor>& proposals,
                          const std::vector<ImageMeta>& metas, const std::vector<GtInstances>& gts,
                          DebugTrace* trace = nullptr) override;
  bool with_mask() const override { return mask_head_ != nullptr; }
  int64_t num_classes() const override { return bbox_head_->num_classes(); }

  BBoxHeadOutputs bbox_forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois);
  torch::Tensor mask_forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois);

 private:
  std::vector<torch::Tensor> select_inputs(const std::vector<torch::Tensor>& feats, const RoIExtractor& e) const;
  const RcnnTestConfig& test_cfg() const;

  std::optional<RcnnTestConfig> test_cfg_;
  config::Value train_cfg_value_;
  std::string train_cfg_path_;
  std::optional<RcnnTrainConfig> train_cfg_;
  std::shared_ptr<RoIExtractor> bbox_roi_extractor_;
  std::shared_ptr<BBoxHead> bbox_head_;
  std::shared_ptr<RoIExtractor> mask_roi_extractor_;
  std::shared_ptr<MaskHead> mask_head_;
};

}  // namespace cppdet::models
