#pragma once
// The public detector interface (mmdet's BaseDetector at inference time) and its factory.
//
//   config::Value cfg = config::load_config("configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py");
//   std::shared_ptr<models::Detector> model = models::build_detector(cfg.as_dict().at("model"));
//   io::load_state_dict(*model, io::read_checkpoint(path).state_dict, /*strict=*/false);
//   model->eval();
//   std::vector<DetResult> results = model->simple_test(img, metas);  // img: [N,3,H,W]
//
// named_parameters() / named_buffers() of a Detector are exactly MMDetection's state_dict
// keys (backbone.layer1.0.conv1.weight, neck.lateral_convs.0.conv.bias, ...).
#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/core/error.h"
#include "cppdet/structures/det_result.h"
#include "cppdet/structures/det_sample.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::models {

// Intermediate tensors recorded during simple_test when a trace is passed, for debugging and
// parity checks (oracle outputs.json statistics). Names (i = level / stage index, b = image):
//   "backbone.<i>"                  backbone outputs C2.. [N, C, H, W]
//   "neck.<i>"                      neck outputs P2.. [N, C, H, W]
//   "rpn_head.cls_score.<i>"        raw RPN logits per level [N, A, H, W] (two-stage)
//   "rpn_head.bbox_pred.<i>"        raw RPN deltas per level [N, A*4, H, W]
//   "bbox_head.cls_score.<i>"       one-stage head logits per level [N, A*C, H, W]
//   "bbox_head.bbox_pred.<i>"       one-stage head box outputs per level [N, A*4, H, W] (deltas,
//                                   FCOS distances, GFL distribution logits)
//   "bbox_head.score_factor.<i>"    FCOS / ATSS centerness logits per level [N, A, H, W]
//   "rpn_proposals.<b>"             proposals after NMS, [P, 5] x1 y1 x2 y2 score, resized-image
//                                   coordinates, descending score
//   "roi_head.cls_score"            box head logits for all proposals of the batch [R, C+1]
//   "roi_head.bbox_pred"            box head deltas [R, 4*C] (or [R, 4] class-agnostic)
//   "mask_head.first5.mask_pred"    mask logits for the first 5 proposals of image 0 [5, C, 28, 28]
//   "roi_head.stage<i>.*", ...      per-stage tensors of a CascadeRoIHead (cascade_roi_head.h)
// Tensors are recorded as they are computed (same device, no copy).
struct DebugTrace {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;

  void record(const std::string& name, const torch::Tensor& t) { tensors.emplace_back(name, t); }
  // nullptr when `name` was not recorded.
  const torch::Tensor* find(const std::string& name) const {
    for (const auto& [n, t] : tensors)
      if (n == name) return &t;
    return nullptr;
  }
};

// A batch's losses in MMDetection's log_vars order (loss_rpn_cls, loss_rpn_bbox, loss_cls, acc,
// loss_bbox, loss_mask, ...). Each tensor is a scalar with autograd history (acc has none).
using LossTerms = std::vector<std::pair<std::string, torch::Tensor>>;

class Detector : public torch::nn::Module {
 public:
  // Training forward (mmdet's forward_train + the per-head loss dicts) on a collated batch
  // whose `gts` are set. Call after train(): frozen stages and norm_eval are respected.
  // Detectors without training support throw UserError naming their type.
  virtual LossTerms forward_train(const DetBatch& batch) {
    (void)batch;
    throw UserError(type_name_ + " cannot be trained by cppdet yet");
  }

  // Inference on a batch: `img` [N, 3, H, W] float32, normalized and padded (one device);
  // `metas` one per image. With `rescale` boxes/masks are mapped back to each image's
  // ori_shape (mmdet's rescale=True, what inference_detector uses). Runs without autograd.
  virtual std::vector<DetResult> simple_test(const torch::Tensor& img,
                                             const std::vector<ImageMeta>& metas,
                                             bool rescale = true,
                                             DebugTrace* trace = nullptr) = 0;

  virtual bool with_mask() const = 0;
  // Why this detector's layers cannot run in bf16 / int8 (models/precision/), or "" when they
  // can (then models::set_inference_precision prepares them).
  virtual std::string reduced_precision_limitation() const {
    return type_name_ + " runs in fp32 only (bf16 and int8 cover Faster / Mask R-CNN: ResNet, FPN, RPN and the standard RoI heads)";
  }
  // Number of foreground classes of the final head.
  int64_t num_classes() const { return num_classes_; }
  // The detector's registered type name ("FasterRCNN", "MaskRCNN", "RetinaNet", ...).
  const std::string& type_name() const { return type_name_; }

 protected:
  Detector(std::string type_name, int64_t num_classes)
      : type_name_(std::move(type_name)), num_classes_(num_classes) {}

 private:
  std::string type_name_;
  int64_t num_classes_ = 0;
};

// Builds a detector from the config's `model` dict (its train_cfg/test_cfg handed down as
// mmdet does). `path` names the node in error messages. Unknown types or keys throw
// ConfigError with the key path. The model is returned in eval() mode with random weights.
std::shared_ptr<Detector> build_detector(const config::Value& model_cfg,
                                         const std::string& path = "model");

}  // namespace cppdet::models
