#pragma once
// Interface of RoI mask heads.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <array>
#include <utility>
#include <vector>

#include "cppdet/models/detector.h"
#include "cppdet/models/task/sampling_result.h"

namespace cppdet::models {

class MaskHead : public torch::nn::Module {
 public:
  // roi_feats [K, C, s, s] -> mask logits [K, num_classes (or 1), 2s, 2s].
  virtual torch::Tensor forward(const torch::Tensor& roi_feats) = 0;
  // Sigmoid probabilities of each RoI's label channel (channel 0 when the head is
  // class-agnostic): mask_pred [K, C, h, w] logits, labels [K] -> [K, h, w].
  virtual torch::Tensor label_probs(const torch::Tensor& mask_pred, const torch::Tensor& labels) const = 0;
  // Full-size binary masks for one image from label-channel probabilities `probs` [K, h, w]
  // (mmdet's get_seg_masks after its sigmoid, e.g. the stage-merged probabilities of a
  // cascade): returns [K, H, W] (bool) in the detections' order. `bboxes` [K, 4] are in
  // network-input coordinates; with `rescale` the masks are pasted into ori_shape (h, w)
  // through bboxes / scale_factor.
  virtual torch::Tensor paste_masks(const torch::Tensor& probs, const torch::Tensor& bboxes, double mask_thr_binary,
                                    std::array<int64_t, 2> ori_shape, const std::array<float, 4>& scale_factor,
                                    bool rescale) const = 0;
  // mmdet's get_seg_masks on logits: paste_masks(label_probs(mask_pred, labels), ...).
  torch::Tensor get_seg_masks(const torch::Tensor& mask_pred, const torch::Tensor& bboxes, const torch::Tensor& labels,
                              double mask_thr_binary, std::array<int64_t, 2> ori_shape,
                              const std::array<float, 4>& scale_factor, bool rescale) const {
    return paste_masks(label_probs(mask_pred, labels), bboxes, mask_thr_binary, ori_shape, scale_factor, rescale);
  }
  virtual int64_t num_classes() const = 0;
  // Training (mmdet's get_targets + loss): mask_pred [P, C, h, w] for the positive RoIs of
  // all images (image order), gt_masks per image [K, H, W]; targets are mask_size crops of
  // the assigned gt masks. Returns loss_mask. Heads without training support throw UserError.
  virtual LossTerms loss(const torch::Tensor& mask_pred, const std::vector<SamplingResult>& sampling_results,
                         const std::vector<torch::Tensor>& gt_masks, std::pair<int64_t, int64_t> mask_size);
};

}  // namespace cppdet::models
