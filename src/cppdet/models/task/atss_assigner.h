#pragma once
// mmdet 2.x ATSSAssigner (Adaptive Training Sample Selection), per image:
//  1. IoU [M, K] between every candidate and gt, and the distance between their centres;
//  2. on each pyramid level the topk candidates closest to each gt centre (torch.topk, so
//     ties resolve as in PyTorch) -> L * topk candidates per gt;
//  3. a gt's IoU threshold is mean + std (unbiased) of its candidates' IoUs; a candidate is
//     positive when its IoU >= the threshold and its centre lies inside the gt by more than
//     0.01 on every side;
//  4. a candidate positive for several gts takes the one with the highest IoU (first on ties).
// max_overlaps is that IoU for positives and -1e8 elsewhere; gt_inds 0 for negatives, -1 for
// candidates whose IoF with an ignore box exceeds ignore_iof_thr (when > 0).
// Config keys: topk (required), ignore_iof_thr (-1), iou_calculator (BboxOverlaps2D only),
// alpha (None only: DDOD's dynamic-cost variant is not supported).
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/task/assigner.h"

namespace cppdet::models {

struct ATSSAssignerOptions {
  int64_t topk = 9;
  double ignore_iof_thr = -1;

  static ATSSAssignerOptions from_config(const config::Value& cfg, const std::string& path);
};

class ATSSAssigner : public BBoxAssigner {
 public:
  explicit ATSSAssigner(ATSSAssignerOptions options) : options_(options) {}
  // bboxes [M, 4] concatenated over levels, num_level_bboxes[l] of them on level l.
  AssignResult assign(const torch::Tensor& bboxes, const std::vector<int64_t>& num_level_bboxes,
                      const torch::Tensor& gt_bboxes, const torch::Tensor& gt_bboxes_ignore,
                      const torch::Tensor& gt_labels) const;
  // Without the per-level counts ATSS cannot select candidates: throws UserError (a head that
  // uses this assigner must be one that passes them, ATSSHead or GFLHead).
  AssignResult assign(const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes,
                      const torch::Tensor& gt_bboxes_ignore, const torch::Tensor& gt_labels) const override;

 private:
  ATSSAssignerOptions options_;
};

}  // namespace cppdet::models
