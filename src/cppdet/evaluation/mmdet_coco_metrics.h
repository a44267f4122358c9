#pragma once
// MMDetection 2.x's view of a COCO evaluation (CocoDataset.evaluate): metric keys with values
// rounded to 3 decimals, the copypaste line, and the classwise AP table.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "cppdet/evaluation/coco_eval.h"

namespace cppdet::evaluation {

struct MmdetCocoMetrics {
  // In mmdet's order, e.g. bbox_mAP, bbox_mAP_50, ... or AR@100, AR@300, ... for proposals.
  std::vector<std::pair<std::string, double>> values;
  // "<metric>_mAP_copypaste" and "%.3f %.3f %.3f %.3f %.3f %.3f" of stats[0:6]; empty for proposals.
  std::string copypaste_key;
  std::string copypaste;
};

// metric: "bbox", "segm" or "proposal". metric_items: a subset of mAP, mAP_50, mAP_75, mAP_s,
// mAP_m, mAP_l, AR@100, AR@300, AR@1000, AR_s@1000, AR_m@1000, AR_l@1000 (empty = mmdet's default
// for the metric). Throws UserError for an unknown item.
MmdetCocoMetrics mmdet_coco_metrics(const std::string& metric, const std::array<double, 12>& stats,
                                    const std::vector<std::string>& metric_items = {});

// float(f'{x:.3f}')
double round3(double x);

// The classwise table (terminaltables AsciiTable, up to 3 (category, AP) pairs per row). AP per
// category is the mean of the valid precision at area "all" and the last maxDets; "nan" if none.
std::string classwise_ap_table(const CocoEvaluator& evaluator, const CocoGroundTruth& gt);

// terminaltables' AsciiTable: the first row is the heading; cells are left-justified with one
// space of padding.
std::string ascii_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace cppdet::evaluation
