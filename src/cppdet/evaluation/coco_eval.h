#pragma once
// COCO detection evaluation with exactly pycocotools' COCOeval semantics (bbox and segm;
// proposals are bbox with useCats=0 and maxDets=[100, 300, 1000], as MMDetection runs them).
// Results match pycocotools to the last bit except for summation order inside a mean, which
// is numpy's pairwise summation reproduced here as well.
//
// Arrays use pycocotools' shapes and C order:
//   precision, scores [T][R][K][A][M];  recall [T][K][A][M]
// T = iouThrs, R = recThrs, K = categories (1 when useCats=0), A = area ranges, M = maxDets.
// -1 marks "no ground truth" entries.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cppdet/evaluation/coco_json.h"

namespace cppdet::evaluation {

enum class IouType { kBbox, kSegm };

struct CocoEvalParams {
  IouType iou_type = IouType::kBbox;
  std::vector<int64_t> img_ids;  // empty: every ground-truth image
  std::vector<int64_t> cat_ids;  // empty: every ground-truth category
  std::vector<double> iou_thrs;  // np.linspace(.5, .95, 10)
  std::vector<double> rec_thrs;  // np.linspace(0, 1, 101)
  std::vector<int64_t> max_dets{1, 10, 100};
  std::vector<std::array<double, 2>> area_rng;  // all, small, medium, large
  std::vector<std::string> area_rng_lbl{"all", "small", "medium", "large"};
  bool use_cats = true;

  // pycocotools' defaults for detection.
  static CocoEvalParams defaults(IouType iou_type);
  // MMDetection's proposal evaluation: bbox, useCats=0, maxDets = proposal_nums.
  static CocoEvalParams proposal(std::vector<int64_t> proposal_nums = {100, 300, 1000});
};

// np.linspace(start, stop, num) bit for bit.
std::vector<double> numpy_linspace(double start, double stop, int num);
// numpy's mean of a contiguous float64 array (pairwise summation in blocks, as np.add.reduce).
double numpy_mean(const std::vector<double>& values);

// Per-category figures derived from precision/recall (category index k, area "all",
// last maxDets): ap (all IoUs), ap50, ap75; -1 when the category has no ground truth.
struct CategoryAp {
  int64_t category_id = 0;  // -1 when useCats=0
  double ap = -1, ap50 = -1, ap75 = -1;
};

class CocoEvaluator {
 public:
  // gt and dt must outlive the evaluator.
  CocoEvaluator(const CocoGroundTruth& gt, const CocoResults& dt, CocoEvalParams params);
  ~CocoEvaluator();
  CocoEvaluator(const CocoEvaluator&) = delete;
  CocoEvaluator& operator=(const CocoEvaluator&) = delete;

  // Worker threads for evaluate/accumulate (results do not depend on it); default: 2.
  void set_num_threads(int n) { num_threads_ = n < 1 ? 1 : n; }

  void evaluate();
  void accumulate();
  // Computes the 12 stats and pycocotools' printed lines (needs maxDets with >= 3 values).
  void summarize();

  const CocoEvalParams& params() const { return params_; }  // after evaluate(): sorted ids, sorted maxDets
  const std::vector<double>& precision() const { return precision_; }
  const std::vector<double>& recall() const { return recall_; }
  const std::vector<double>& scores() const { return scores_; }
  std::array<size_t, 5> precision_shape() const;  // T, R, K, A, M
  const std::array<double, 12>& stats() const { return stats_; }
  const std::vector<std::string>& summary_lines() const { return summary_lines_; }

  // Category ids of the K axis ([-1] with useCats=0).
  std::vector<int64_t> k_category_ids() const;
  // Mean of the valid precision (ap=true) or recall entries for one category k, area label and
  // maxDets value, at every IoU threshold (iou < 0) or at one exact threshold; -1 when none.
  double category_metric(bool ap, size_t k, const std::string& area_label, int64_t max_det, double iou = -1) const;
  std::vector<CategoryAp> per_category_ap() const;

 private:
  struct Impl;
  const CocoGroundTruth& gt_;
  const CocoResults& dt_;
  CocoEvalParams params_;
  int num_threads_ = 2;
  Impl* impl_ = nullptr;
  std::vector<double> precision_, recall_, scores_;
  std::array<double, 12> stats_{};
  std::vector<std::string> summary_lines_;
};

// The stats of a whole run: load results, evaluate, accumulate, summarize.
struct CocoEvalSummary {
  std::array<double, 12> stats{};
  std::vector<std::string> lines;
  std::vector<CategoryAp> per_category;
};
CocoEvalSummary evaluate_coco(const CocoGroundTruth& gt, const CocoResults& dt, const CocoEvalParams& params);

}  // namespace cppdet::evaluation
