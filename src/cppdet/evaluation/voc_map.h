#pragma once
// MMDetection 2.x's VOC-style metrics (mmdet.core.evaluation.mean_ap / recall): eval_map with
// 11-point (VOC2007, "voc07") or area AP, difficult/ignored gt boxes that neither match as TP nor
// count as FP, legacy +1 box sizes; eval_recalls for proposals. float32 where mmdet uses float32
// (IoUs, tp/fp, precision, per-class AP), float64 where it uses float64 (recall, the area sum).
// No scale ranges (VOCDataset does not use them).
#include <array>
#include <string>
#include <vector>

namespace cppdet::evaluation {

// Boxes are [x1, y1, x2, y2]; detections [x1, y1, x2, y2, score].
using VocBox = std::array<float, 4>;
using VocDetection = std::array<float, 5>;

struct VocImageAnnotation {
  std::vector<VocBox> bboxes;
  std::vector<int> labels;
  std::vector<VocBox> bboxes_ignore;  // difficult boxes
  std::vector<int> labels_ignore;
};

struct VocClassResult {
  int num_gts = 0;
  int num_dets = 0;
  std::vector<double> recall;    // cumulative, over detections sorted by score
  std::vector<float> precision;
  float ap = 0;
};

struct VocMapResult {
  double mean_ap = 0;  // mean AP over classes with gt (float32 mean, as numpy on float32 APs)
  std::vector<VocClassResult> classes;
};

enum class VocApMode { kArea, kElevenPoints };

// det_results[image][class] = detections of that class; annotations[image]. `legacy` adds 1 to
// widths and heights (VOC); `mode` is kElevenPoints for VOC2007.
VocMapResult eval_map(const std::vector<std::vector<std::vector<VocDetection>>>& det_results,
                      const std::vector<VocImageAnnotation>& annotations, double iou_thr, VocApMode mode,
                      bool legacy = true);

// AP from a recall/precision curve (mmdet's average_precision).
float average_precision(const std::vector<double>& recall, const std::vector<float>& precision, VocApMode mode);

// print_map_summary's table: class, gts, dets, recall, ap, then an "mAP" footer row.
std::string map_summary_table(const VocMapResult& result, const std::vector<std::string>& class_names);

// IoU matrix [boxes1][boxes2] as mmdet's numpy bbox_overlaps (float32, union clamped to 1e-6).
std::vector<std::vector<float>> voc_bbox_overlaps(const std::vector<VocBox>& boxes1, const std::vector<VocBox>& boxes2,
                                                  bool legacy);

// eval_recalls: recall[i][j] for proposal_nums[i] and iou_thrs[j]; proposals[image] are scored
// boxes, sorted by score (descending) before the top proposal_nums are taken.
std::vector<std::vector<double>> eval_recalls(const std::vector<std::vector<VocBox>>& gts,
                                              const std::vector<std::vector<VocDetection>>& proposals,
                                              const std::vector<int>& proposal_nums, const std::vector<double>& iou_thrs,
                                              bool legacy = true);

}  // namespace cppdet::evaluation
