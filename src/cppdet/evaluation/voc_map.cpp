#include "cppdet/evaluation/voc_map.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "cppdet/evaluation/mmdet_coco_metrics.h"

namespace cppdet::evaluation {
namespace {

float box_area(const VocBox& b, float extra) { return (b[2] - b[0] + extra) * (b[3] - b[1] + extra); }

// numpy's pairwise sum (float32 accumulators for float32 data).
template <typename T>
T pairwise_sum(const T* a, size_t n) {
  if (n < 8) {
    T res = 0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// Indices of `scores` sorted by descending score (ties keep input order).
template <typename Scores>
std::vector<size_t> by_score_desc(const Scores& scores) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return idx;
}

}  // namespace

std::vector<std::vector<float>> voc_bbox_overlaps(const std::vector<VocBox>& b1, const std::vector<VocBox>& b2,
                                                  bool legacy) {
  const float extra = legacy ? 1.0f : 0.0f;
  std::vector<std::vector<float>> ious(b1.size(), std::vector<float>(b2.size(), 0.0f));
  for (size_t i = 0; i < b1.size(); ++i) {
    const float a1 = box_area(b1[i], extra);
    for (size_t j = 0; j < b2.size(); ++j) {
      const float a2 = box_area(b2[j], extra);
      const float w = std::max(std::min(b1[i][2], b2[j][2]) - std::max(b1[i][0], b2[j][0]) + extra, 0.0f);
      const float h = std::max(std::min(b1[i][3], b2[j][3]) - std::max(b1[i][1], b2[j][1]) + extra, 0.0f);
      const float overlap = w * h;
      const float uni = std::max(a1 + a2 - overlap, 1e-6f);
      ious[i][j] = overlap / uni;
    }
  }
  return ious;
}

float average_precision(const std::vector<double>& recall, const std::vector<float>& precision, VocApMode mode) {
  const size_t n = recall.size();
  if (mode == VocApMode::kArea) {
    std::vector<double> mrec{0.0}, mpre{0.0};
    mrec.insert(mrec.end(), recall.begin(), recall.end());
    mrec.push_back(1.0);
    mpre.insert(mpre.end(), precision.begin(), precision.end());
    mpre.push_back(0.0);
    for (size_t i = mpre.size() - 1; i > 0; --i) mpre[i - 1] = std::max(mpre[i - 1], mpre[i]);
    std::vector<double> terms;
    for (size_t i = 0; i + 1 < mrec.size(); ++i)
      if (mrec[i + 1] != mrec[i]) terms.push_back((mrec[i + 1] - mrec[i]) * mpre[i + 1]);
    return static_cast<float>(pairwise_sum(terms.data(), terms.size()));
  }
  float ap = 0;
  for (int k = 0; k <= 10; ++k) {
    const double thr = k * 0.1;  // np.arange(0, 1 + 1e-3, 0.1)
    float best = 0;
    bool any = false;
    for (size_t i = 0; i < n; ++i)
      if (recall[i] >= thr) {
        best = any ? std::max(best, precision[i]) : precision[i];
        any = true;
      }
    ap += any ? best : 0.0f;
  }
  return ap / 11.0f;
}

VocMapResult eval_map(const std::vector<std::vector<std::vector<VocDetection>>>& det_results,
                      const std::vector<VocImageAnnotation>& annotations, double iou_thr, VocApMode mode, bool legacy) {
  VocMapResult out;
  const size_t num_imgs = det_results.size();
  const size_t num_classes = num_imgs ? det_results[0].size() : 0;
  for (size_t c = 0; c < num_classes; ++c) {
    VocClassResult res;
    std::vector<float> all_scores, all_tp, all_fp;
    for (size_t im = 0; im < num_imgs && im < annotations.size(); ++im) {
      const auto& dets = det_results[im][c];
      const VocImageAnnotation& ann = annotations[im];
      // gts of this class: regular first, then ignored (difficult).
      std::vector<VocBox> gts;
      std::vector<bool> gt_ignore;
      for (size_t j = 0; j < ann.bboxes.size(); ++j)
        if (ann.labels[j] == static_cast<int>(c)) {
          gts.push_back(ann.bboxes[j]);
          gt_ignore.push_back(false);
        }
      res.num_gts += static_cast<int>(gts.size());
      for (size_t j = 0; j < ann.bboxes_ignore.size(); ++j)
        if (ann.labels_ignore[j] == static_cast<int>(c)) {
          gts.push_back(ann.bboxes_ignore[j]);
          gt_ignore.push_back(true);
        }
      std::vector<float> tp(dets.size(), 0.0f), fp(dets.size(), 0.0f);
      if (gts.empty()) {
        std::fill(fp.begin(), fp.end(), 1.0f);
      } else {
        std::vector<VocBox> boxes;
        for (const auto& d : dets) boxes.push_back({d[0], d[1], d[2], d[3]});
        const auto ious = voc_bbox_overlaps(boxes, gts, legacy);
        std::vector<float> scores;
        for (const auto& d : dets) scores.push_back(d[4]);
        std::vector<bool> covered(gts.size(), false);
        for (size_t i : by_score_desc(scores)) {
          // np.argmax: the first maximum.
          size_t best = 0;
          for (size_t g = 1; g < gts.size(); ++g)
            if (ious[i][g] > ious[i][best]) best = g;
          if (ious[i][best] >= static_cast<float>(iou_thr)) {  // numpy compares in float32
            if (!gt_ignore[best]) {
              if (!covered[best]) {
                covered[best] = true;
                tp[i] = 1;
              } else {
                fp[i] = 1;
              }
            }
          } else {
            fp[i] = 1;
          }
        }
      }
      for (size_t i = 0; i < dets.size(); ++i) {
        all_scores.push_back(dets[i][4]);
        all_tp.push_back(tp[i]);
        all_fp.push_back(fp[i]);
      }
    }
    res.num_dets = static_cast<int>(all_scores.size());
    float tp_cum = 0, fp_cum = 0;
    const double denom_gt = std::max(static_cast<double>(res.num_gts), static_cast<double>(1.1920929e-07f));
    for (size_t i : by_score_desc(all_scores)) {
      tp_cum += all_tp[i];
      fp_cum += all_fp[i];
      res.recall.push_back(static_cast<double>(tp_cum) / denom_gt);
      res.precision.push_back(tp_cum / std::max(tp_cum + fp_cum, 1.1920929e-07f));
    }
    res.ap = average_precision(res.recall, res.precision, mode);
    out.classes.push_back(std::move(res));
  }
  std::vector<float> aps;
  for (const auto& r : out.classes)
    if (r.num_gts > 0) aps.push_back(r.ap);
  out.mean_ap = aps.empty() ? 0.0 : static_cast<double>(pairwise_sum(aps.data(), aps.size()) / static_cast<float>(aps.size()));
  return out;
}

std::string map_summary_table(const VocMapResult& result, const std::vector<std::string>& class_names) {
  auto f3 = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    return std::string(b);
  };
  std::vector<std::vector<std::string>> rows{{"class", "gts", "dets", "recall", "ap"}};
  for (size_t j = 0; j < result.classes.size(); ++j) {
    const VocClassResult& r = result.classes[j];
    const float recall = r.recall.empty() ? 0.0f : static_cast<float>(r.recall.back());
    rows.push_back({j < class_names.size() ? class_names[j] : std::to_string(j), std::to_string(r.num_gts),
                    std::to_string(r.num_dets), f3(recall), f3(r.ap)});
  }
  rows.push_back({"mAP", "", "", "", f3(result.mean_ap)});
  // inner_footing_row_border: a rule above the mAP row.
  std::string table = ascii_table(rows);
  const std::string border = table.substr(0, table.find('\n'));
  const size_t before_footer = table.rfind('\n', table.rfind('\n') - 1);
  return table.substr(0, before_footer + 1) + border + table.substr(before_footer);
}

std::vector<std::vector<double>> eval_recalls(const std::vector<std::vector<VocBox>>& gts,
                                              const std::vector<std::vector<VocDetection>>& proposals,
                                              const std::vector<int>& proposal_nums, const std::vector<double>& iou_thrs,
                                              bool legacy) {
  const size_t img_num = gts.size();
  const int max_num = proposal_nums.empty() ? 0 : *std::max_element(proposal_nums.begin(), proposal_nums.end());
  std::vector<std::vector<std::vector<float>>> all_ious;  // [image][gt][proposal]
  size_t total_gt = 0;
  for (size_t i = 0; i < img_num; ++i) {
    std::vector<float> scores;
    for (const auto& p : proposals[i]) scores.push_back(p[4]);
    // np.argsort(scores)[::-1]: descending; ties in reverse input order.
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    std::reverse(order.begin(), order.end());
    const size_t n = std::min(order.size(), static_cast<size_t>(std::max(max_num, 0)));
    std::vector<VocBox> boxes;
    for (size_t j = 0; j < n; ++j) {
      const auto& p = proposals[i][order[j]];
      boxes.push_back({p[0], p[1], p[2], p[3]});
    }
    all_ious.push_back(voc_bbox_overlaps(gts[i], boxes, legacy));
    total_gt += gts[i].size();
  }
  std::vector<std::vector<double>> recalls(proposal_nums.size(), std::vector<double>(iou_thrs.size(), 0.0));
  for (size_t k = 0; k < proposal_nums.size(); ++k) {
    std::vector<float> gt_best;  // greedy one-to-one best IoU per gt
    for (const auto& img : all_ious) {
      std::vector<std::vector<float>> ious = img;
      for (auto& row : ious)
        if (row.size() > static_cast<size_t>(proposal_nums[k])) row.resize(static_cast<size_t>(proposal_nums[k]));
      const size_t ng = ious.size(), np = ng ? ious[0].size() : 0;
      std::vector<float> got(ng, 0.0f);
      if (np > 0) {
        for (size_t j = 0; j < ng; ++j) {
          size_t best_gt = 0, best_box = 0;
          float best = 0;
          for (size_t g = 0; g < ng; ++g) {
            size_t arg = 0;  // first maximum of row g
            for (size_t b = 1; b < np; ++b)
              if (ious[g][b] > ious[g][arg]) arg = b;
            if (g == 0 || ious[g][arg] > best) {
              best = ious[g][arg];
              best_gt = g;
              best_box = arg;
            }
          }
          got[j] = best;
          for (size_t b = 0; b < np; ++b) ious[best_gt][b] = -1;
          for (size_t g = 0; g < ng; ++g) ious[g][best_box] = -1;
        }
      }
      gt_best.insert(gt_best.end(), got.begin(), got.end());
    }
    for (size_t t = 0; t < iou_thrs.size(); ++t) {
      size_t hit = 0;
      for (float v : gt_best) hit += v >= static_cast<float>(iou_thrs[t]);
      recalls[k][t] = total_gt ? static_cast<double>(hit) / static_cast<double>(total_gt) : 0.0;
    }
  }
  return recalls;
}

}  // namespace cppdet::evaluation
