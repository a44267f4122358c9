#pragma once
// Shared parts of anchor-based dense heads (mmdet's AnchorHead + BaseDenseHead): the prior
// generator, the box coder, the test_cfg and the generic per-image post-processing
// (per-level score filter and top-k, decode, optional rescale, class-aware NMS).
#include <memory>
#include <optional>
#include <string>

#include "cppdet/config/reader.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/dense_heads/dense_head.h"
#include "cppdet/models/dense_heads/dense_post_process.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/registries.h"
#include "cppdet/models/task/assigner.h"
#include "cppdet/models/task/bbox_coder.h"
#include "cppdet/models/task/sampler.h"
#include "cppdet/models/task/multiclass_nms.h"
#include "cppdet/models/task/prior_generator.h"

namespace cppdet::models {

// train_cfg of an anchor head (train_cfg.rpn for an RPN, train_cfg for a one-stage detector):
// assigner, sampler (absent or PseudoSampler: "not sampling", losses averaged over the
// positives; FocalLoss-like loss_cls types also force that), allowed_border (-1: every
// anchor whose cell lies in the image's pad_shape; >= 0: also inside img_shape +- border),
// pos_weight (-1: 1.0), debug (ignored).
struct AnchorTrainConfig {
  std::shared_ptr<BBoxAssigner> assigner;
  std::shared_ptr<BBoxSampler> sampler;
  bool sampling = false;
  double allowed_border = -1;
  double pos_weight = -1;

  static AnchorTrainConfig from_config(const config::Value& cfg, const std::string& path,
                                       const std::string& loss_cls_type);
};

// AnchorHead's default anchor_generator: scales [8, 16, 32], ratios [0.5, 1, 2], strides
// [4, 8, 16, 32, 64].
config::Value anchor_head_default_generator();

// Anchors usable for training (mmdet's anchor_inside_flags): valid [A] for the image's
// pad_shape and, with allowed_border >= 0, inside img_shape enlarged by the border.
torch::Tensor anchor_inside_flags(const torch::Tensor& anchors, const torch::Tensor& valid, const ImageMeta& meta,
                                  double allowed_border);

// Config keys every anchor head shares; loss / train settings are kept for training.
struct AnchorHeadOptions {
  int64_t num_classes = 1;
  int64_t in_channels = 256;
  int64_t feat_channels = 256;
  config::Value anchor_generator;
  std::string anchor_generator_path;
  config::Value bbox_coder;
  std::string bbox_coder_path;
  bool reg_decoded_bbox = false;
  config::Value loss_cls;   // None: the head's default loss
  std::string loss_cls_path;
  config::Value loss_bbox;  // None: SmoothL1Loss(beta=1/9)
  std::string loss_bbox_path;
  bool use_sigmoid_cls = true;  // loss_cls.use_sigmoid
  std::optional<DenseTestConfig> test_cfg;
  config::Value train_cfg;
  std::string train_cfg_path;

  // Reads the shared keys from `r` (the head's reader; the caller reads its own keys and
  // calls r.finish()). Defaults follow mmdet's AnchorHead.
  static AnchorHeadOptions read(config::ConfigReader& r, const HeadConfigs& head_cfgs,
                                const config::Value& default_anchor_generator);
};

class AnchorHead : public DenseHead {
 public:
  explicit AnchorHead(const AnchorHeadOptions& options);

  std::vector<Detections> get_bboxes(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                     bool rescale) override;
  // The same post-processing with explicit settings (e.g. train_cfg.rpn_proposal).
  std::vector<Detections> get_bboxes(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                     const DenseTestConfig& cfg, bool rescale);
  // mmdet's AnchorHead.loss (anchor_head_loss.cpp): per image, anchors valid for its
  // pad_shape are assigned and sampled; labels / weights / encoded box targets; per level
  // loss_cls and loss_bbox averaged by num_total_samples (sum over images of max(#pos, 1),
  // plus max(#neg, 1) when sampling); then summed over levels. Records
  // "<trace_name>.assign.gt_inds.<b>" / ".max_overlaps.<b>" (assigner output on the
  // candidate anchors) in `trace`.
  LossTerms loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                 const std::vector<GtInstances>& gts, DebugTrace* trace = nullptr) override;
  int64_t num_classes() const override { return options_.num_classes; }
  int64_t cls_out_channels() const { return cls_out_channels_; }
  int64_t num_base_priors() const { return num_base_priors_; }
  const PriorGenerator& prior_generator() const { return *prior_generator_; }
  const BBoxCoder& bbox_coder() const { return *bbox_coder_; }
  const AnchorHeadOptions& options() const { return options_; }

 protected:
  // One image's post-processing (mmdet's _get_bboxes_single); per level cls_scores
  // [A*C, H, W], bbox_preds [A*4, H, W] and, for heads with a score factor (centerness),
  // score_factors [A, H, W] (empty vector otherwise).
  virtual Detections get_bboxes_single(const std::vector<torch::Tensor>& cls_scores,
                                       const std::vector<torch::Tensor>& bbox_preds,
                                       const std::vector<torch::Tensor>& score_factors,
                                       const std::vector<torch::Tensor>& priors, const ImageMeta& meta,
                                       const DenseTestConfig& cfg, bool rescale);
  const DenseTestConfig& test_cfg() const;
  // Log-var name of a loss term ("cls" -> "loss_cls"; the RPN says "loss_rpn_cls").
  virtual std::string loss_name(const std::string& term) const { return "loss_" + term; }
  virtual std::string trace_name() const { return "bbox_head"; }
  // Whether assignment uses the gt labels (one-stage heads); an RPN labels positives 0.
  virtual bool uses_gt_labels() const { return true; }
  // Builds train_cfg, loss_cls and loss_bbox on first use (ConfigError naming the key).
  void prepare_training();

  AnchorHeadOptions options_;
  std::optional<AnchorTrainConfig> train_;
  std::shared_ptr<Loss> loss_cls_, loss_bbox_;
  std::shared_ptr<PriorGenerator> prior_generator_;
  std::shared_ptr<BBoxCoder> bbox_coder_;
  int64_t cls_out_channels_ = 1;
  int64_t num_base_priors_ = 1;
};

}  // namespace cppdet::models
