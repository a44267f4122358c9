#pragma once
// mmdet 2.x FCOSHead (an AnchorFreeHead): per level, a cls tower and a reg tower of
// stacked_convs ConvModules (GN(32) by default; conv bias 'auto' = none under a norm, or
// conv_bias), then conv_cls (C logits), conv_reg (4) and conv_centerness (1, on the cls tower
// or with centerness_on_reg on the reg tower), all 3x3; Scale_l per level ("scales.<l>.scale").
// Box distances in resized-image pixels: exp(Scale_l(conv_reg)), or with norm_on_bbox
// relu(Scale_l(conv_reg)) in stride units (times the stride at test time).
// Points: MlvlPointGenerator(strides, offset 0.5); boxes DistancePointBBoxCoder.
// Test: score = sigmoid(cls) x sigmoid(centerness) (filter on the class score first).
// Training (fcos_head_loss.cpp): see loss().
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/common/layers.h"
#include "cppdet/models/dense_heads/dense_head.h"
#include "cppdet/models/dense_heads/dense_post_process.h"
#include "cppdet/models/registries.h"

namespace cppdet::models {

class Loss;
class PriorGenerator;
class BBoxCoder;

struct FCOSHeadOptions {
  int64_t num_classes = 80;
  int64_t in_channels = 256;
  int64_t feat_channels = 256;
  int64_t stacked_convs = 4;
  std::vector<double> strides{4, 8, 16, 32, 64};
  std::vector<std::pair<double, double>> regress_ranges{{-1, 64}, {64, 128}, {128, 256}, {256, 512}, {512, 1e8}};
  bool center_sampling = false;
  double center_sample_radius = 1.5;
  bool norm_on_bbox = false;
  bool centerness_on_reg = false;
  std::optional<bool> conv_bias;  // nullopt: 'auto'
  std::optional<NormConfig> norm_cfg;
  bool use_sigmoid_cls = true;  // loss_cls.use_sigmoid: C sigmoid logits, else C + 1 softmax logits
  config::Value loss_cls, loss_bbox, loss_centerness, bbox_coder;
  std::string loss_cls_path, loss_bbox_path, loss_centerness_path, bbox_coder_path;
  std::optional<DenseTestConfig> test_cfg;

  // Keys of mmdet's FCOSHead and AnchorFreeHead; dcn_on_last_conv=True and a conv_cfg other
  // than Conv2d are refused. train_cfg is accepted and unused (FCOS assigns by itself).
  static FCOSHeadOptions from_config(const config::Value& cfg, const std::string& path, const HeadConfigs& head_cfgs);
};

class FCOSHead : public DenseHead {
 public:
  explicit FCOSHead(FCOSHeadOptions options);
  // cls_scores [N, C, H, W], bbox_preds [N, 4, H, W] distances, score_factors = centerness
  // logits [N, 1, H, W], per level.
  DenseHeadOutputs forward(const std::vector<torch::Tensor>& feats) override;
  std::vector<Detections> get_bboxes(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                                     bool rescale) override;
  // mmdet's FCOSHead.loss. Targets per point: inside the gt box (with center_sampling: inside
  // the gt box clipped to its centre +- stride * radius), max distance within the level's
  // regress range, the smallest-area gt on ties, else background. Then
  //   loss_cls over all points / max(num_pos, 1);
  //   loss_bbox on the decoded positives, weighted by their centerness targets and divided by
  //   the targets' sum (norm_on_bbox: distances in stride units, decoded around pixel points);
  //   loss_centerness BCE against sqrt(min(l,r)/max(l,r) * min(t,b)/max(t,b)) / num_pos.
  // Records "bbox_head.labels" (flattened [sum_l N*H_l*W_l] level-major targets) in `trace`.
  LossTerms loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                 const std::vector<GtInstances>& gts, DebugTrace* trace = nullptr) override;
  int64_t num_classes() const override { return options_.num_classes; }
  const FCOSHeadOptions& options() const { return options_; }

  // Per-image, per-level targets of mmdet's get_targets: labels [P] (num_classes =
  // background) and distances [P, 4] over all levels' points [P, 2] (level-major).
  std::pair<torch::Tensor, torch::Tensor> point_targets(const torch::Tensor& points,
                                                        const std::vector<int64_t>& num_points_per_level,
                                                        const GtInstances& gt) const;

 private:
  void prepare_training();

  FCOSHeadOptions options_;
  int64_t cls_out_channels_ = 0;
  std::shared_ptr<PriorGenerator> prior_generator_;
  std::shared_ptr<BBoxCoder> bbox_coder_;
  std::shared_ptr<Loss> loss_cls_, loss_bbox_, loss_centerness_;
  torch::nn::ModuleList cls_convs_{nullptr};
  torch::nn::ModuleList reg_convs_{nullptr};
  torch::nn::Conv2d conv_cls_{nullptr};
  torch::nn::Conv2d conv_reg_{nullptr};
  torch::nn::Conv2d conv_centerness_{nullptr};
  torch::nn::ModuleList scales_{nullptr};
};

}  // namespace cppdet::models
