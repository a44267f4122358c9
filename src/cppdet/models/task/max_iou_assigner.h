#pragma once
// mmdet 2.x MaxIoUAssigner. With IoU (no "+1", union >= 1e-6) between every gt and candidate:
//  1. every candidate starts ignored (-1);
//  2. candidates whose best IoU is in [0, neg_iou_thr) (or [lo, hi) for a pair) -> negative 0;
//  3. best IoU >= pos_iou_thr -> its argmax gt;
//  4. match_low_quality: for each gt (in order) whose best IoU >= min_pos_iou, every candidate
//     with exactly that IoU (gt_max_assign_all) or only the first one gets that gt.
// With ignore_iof_thr > 0 and ignore boxes, candidates whose IoF with an ignore box exceeds
// it get IoU -1 with every gt first (so they stay ignored). Config keys: pos_iou_thr,
// neg_iou_thr (number or [lo, hi]), min_pos_iou (0), gt_max_assign_all (True),
// ignore_iof_thr (-1), ignore_wrt_candidates (True), match_low_quality (True),
// gpu_assign_thr (-1: accepted, no effect), iou_calculator (BboxOverlaps2D only).
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/task/assigner.h"

namespace cppdet::models {

struct MaxIoUAssignerOptions {
  double pos_iou_thr = 0.5;
  double neg_iou_lo = 0.0;  // a single neg_iou_thr t means [0, t)
  double neg_iou_hi = 0.5;
  double min_pos_iou = 0.0;
  bool gt_max_assign_all = true;
  double ignore_iof_thr = -1;
  bool ignore_wrt_candidates = true;
  bool match_low_quality = true;

  static MaxIoUAssignerOptions from_config(const config::Value& cfg, const std::string& path);
};

class MaxIoUAssigner : public BBoxAssigner {
 public:
  explicit MaxIoUAssigner(MaxIoUAssignerOptions options) : options_(options) {}
  AssignResult assign(const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes,
                      const torch::Tensor& gt_bboxes_ignore, const torch::Tensor& gt_labels) const override;
  // Steps 1-4 on a precomputed overlaps matrix [K, M] (gt x candidate).
  AssignResult assign_wrt_overlaps(const torch::Tensor& overlaps, const torch::Tensor& gt_labels) const;

 private:
  MaxIoUAssignerOptions options_;
};

}  // namespace cppdet::models
