#pragma once
// mmdet 2.x ConvFCBBoxHead (and its presets Shared2FCBBoxHead, Shared4Conv1FCBBoxHead):
// shared convs/fcs, then cls and reg branches, then fc_cls (num_classes + 1, background last)
// and fc_reg (4 * num_classes, class-major; 4 if reg_class_agnostic). Keys: fc_cls, fc_reg,
// shared_convs.i.conv, shared_fcs.i, cls_convs / cls_fcs / reg_convs / reg_fcs.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <optional>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/precision/inference_precision.h"
#include "cppdet/models/precision/prepared_linear.h"
#include "cppdet/models/roi_heads/bbox_heads/bbox_head.h"
#include "cppdet/models/task/bbox_coder.h"

namespace cppdet::models {

struct ConvFCBBoxHeadOptions {
  // BBoxHead
  bool with_avg_pool = false;
  bool with_cls = true;
  bool with_reg = true;
  int64_t roi_feat_size = 7;
  int64_t in_channels = 256;
  int64_t num_classes = 80;
  config::Value bbox_coder;
  std::string bbox_coder_path;
  bool reg_class_agnostic = false;
  bool reg_decoded_bbox = false;
  config::Value loss_cls;   // None: CrossEntropyLoss (softmax)
  std::string loss_cls_path;
  config::Value loss_bbox;  // None: SmoothL1Loss(beta=1.0)
  std::string loss_bbox_path;
  // ConvFCBBoxHead
  int64_t num_shared_convs = 0, num_shared_fcs = 0;
  int64_t num_cls_convs = 0, num_cls_fcs = 0;
  int64_t num_reg_convs = 0, num_reg_fcs = 0;
  int64_t conv_out_channels = 256;
  int64_t fc_out_channels = 1024;
  std::optional<NormConfig> norm_cfg;

  // `preset` fills the layer counts of Shared2FCBBoxHead / Shared4Conv1FCBBoxHead ("" for
  // ConvFCBBoxHead, where they are config keys).
  static ConvFCBBoxHeadOptions from_config(const config::Value& cfg, const std::string& path,
                                           const std::string& preset);
};

class ConvFCBBoxHead : public BBoxHead, public PrecisionAware {
 public:
  explicit ConvFCBBoxHead(ConvFCBBoxHeadOptions options);
  // Outputs are float32; on the prepared path roi_feats may be in any activation form.
  BBoxHeadOutputs forward(const torch::Tensor& roi_feats) override;
  // bf16 / int8 / calibration: the fcs (+ ReLU) prepared; fc_cls and fc_reg return float32 (in
  // int8 they run in float32 on the dequantized features). The convs are ConvModules (prepared on
  // their own). fp32: the plain layers.
  bool set_inference_precision(const InferencePrecision& precision, const std::string& path) override;
  Detections get_bboxes(const torch::Tensor& rois, const BBoxHeadOutputs& outputs,
                        std::pair<int64_t, int64_t> img_shape, const std::array<float, 4>& scale_factor,
                        bool rescale, const RcnnTestConfig& cfg) override;
  int64_t num_classes() const override { return options_.num_classes; }
  // See bbox_head_loss.h; loss_cls / loss_bbox are built on first use.
  LossTerms loss(const BBoxHeadOutputs& outputs, const torch::Tensor& rois,
                 const std::vector<SamplingResult>& sampling_results, double pos_weight) override;
  torch::Tensor regress_by_class(const torch::Tensor& boxes, const torch::Tensor& labels, const torch::Tensor& bbox_pred,
                                 std::pair<int64_t, int64_t> img_shape) const override;
  const BBoxCoder& bbox_coder() const { return *bbox_coder_; }
  const ConvFCBBoxHeadOptions& options() const { return options_; }

 private:
  // The branch's convs and fcs; `prepared_fcs` (non-null on the prepared path) replaces the fcs.
  torch::Tensor run_branch(torch::Tensor x, torch::nn::ModuleList& convs, torch::nn::ModuleList& fcs,
                           const std::vector<PreparedLinear>* prepared_fcs) const;

  ConvFCBBoxHeadOptions options_;
  std::shared_ptr<BBoxCoder> bbox_coder_;
  std::shared_ptr<Loss> loss_cls_, loss_bbox_;
  torch::nn::Linear fc_cls_{nullptr}, fc_reg_{nullptr};
  torch::nn::ModuleList shared_convs_{nullptr}, shared_fcs_{nullptr};
  torch::nn::ModuleList cls_convs_{nullptr}, cls_fcs_{nullptr};
  torch::nn::ModuleList reg_convs_{nullptr}, reg_fcs_{nullptr};
  PreparedState prepared_;
  std::vector<PreparedLinear> prepared_shared_fcs_, prepared_cls_fcs_, prepared_reg_fcs_;
  PreparedLinear prepared_cls_, prepared_reg_;
};

}  // namespace cppdet::models
