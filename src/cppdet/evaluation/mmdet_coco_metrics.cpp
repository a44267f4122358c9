#include "cppdet/evaluation/mmdet_coco_metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cppdet/core/error.h"

namespace cppdet::evaluation {
namespace {

int stat_index(const std::string& item) {
  static const std::pair<const char*, int> names[] = {
      {"mAP", 0},     {"mAP_50", 1},  {"mAP_75", 2},   {"mAP_s", 3},      {"mAP_m", 4},      {"mAP_l", 5},
      {"AR@100", 6},  {"AR@300", 7},  {"AR@1000", 8},  {"AR_s@1000", 9},  {"AR_m@1000", 10}, {"AR_l@1000", 11},
  };
  for (const auto& [name, idx] : names)
    if (item == name) return idx;
  throw UserError("metric item \"" + item + "\" is not supported (known: mAP, mAP_50, mAP_75, mAP_s, mAP_m, mAP_l, "
                  "AR@100, AR@300, AR@1000, AR_s@1000, AR_m@1000, AR_l@1000)");
}

std::string fixed3(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

}  // namespace

double round3(double x) { return std::strtod(fixed3(x).c_str(), nullptr); }

MmdetCocoMetrics mmdet_coco_metrics(const std::string& metric, const std::array<double, 12>& stats,
                                    const std::vector<std::string>& metric_items) {
  if (metric != "bbox" && metric != "segm" && metric != "proposal")
    throw UserError("metric \"" + metric + "\" is not supported (bbox, segm, proposal)");
  const bool proposal = metric == "proposal";
  std::vector<std::string> items = metric_items;
  if (items.empty())
    items = proposal ? std::vector<std::string>{"AR@100", "AR@300", "AR@1000", "AR_s@1000", "AR_m@1000", "AR_l@1000"}
                     : std::vector<std::string>{"mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"};
  MmdetCocoMetrics out;
  for (const std::string& item : items) {
    const double v = round3(stats[static_cast<size_t>(stat_index(item))]);
    out.values.emplace_back(proposal ? item : metric + "_" + item, v);
  }
  if (!proposal) {
    out.copypaste_key = metric + "_mAP_copypaste";
    for (int i = 0; i < 6; ++i) out.copypaste += (i ? " " : "") + fixed3(stats[static_cast<size_t>(i)]);
  }
  return out;
}

std::string ascii_table(const std::vector<std::vector<std::string>>& rows) {
  size_t cols = 0;
  for (const auto& r : rows) cols = std::max(cols, r.size());
  std::vector<size_t> width(cols, 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string border = "+";
  for (size_t c = 0; c < cols; ++c) border += std::string(width[c] + 2, '-') + "+";
  auto line = [&](const std::vector<std::string>& r) {
    std::string s = "|";
    for (size_t c = 0; c < cols; ++c) {
      const std::string cell = c < r.size() ? r[c] : "";
      s += " " + cell + std::string(width[c] - cell.size(), ' ') + " |";
    }
    return s;
  };
  std::string out = border + "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    out += line(rows[i]) + "\n";
    if (i == 0) out += border + "\n";
  }
  if (rows.size() > 1) out += border + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

std::string classwise_ap_table(const CocoEvaluator& evaluator, const CocoGroundTruth& gt) {
  const auto ids = evaluator.k_category_ids();
  const int64_t last = evaluator.params().max_dets.back();
  std::vector<std::string> flat;
  for (size_t k = 0; k < ids.size(); ++k) {
    const int64_t ci = gt.category_index(ids[k]);
    flat.push_back(ci >= 0 ? gt.categories[static_cast<size_t>(ci)].name : std::to_string(ids[k]));
    const double ap = evaluator.category_metric(true, k, evaluator.params().area_rng_lbl.front(), last);
    flat.push_back(ap == -1 ? "nan" : fixed3(ap));
  }
  const size_t num_columns = std::min<size_t>(6, flat.size());
  if (num_columns == 0) return ascii_table({{}});
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> headers;
  for (size_t c = 0; c < num_columns / 2; ++c) {
    headers.push_back("category");
    headers.push_back("AP");
  }
  rows.push_back(headers);
  // itertools.zip_longest over flat[i::num_columns]: row-major fill, missing cells print "None".
  for (size_t start = 0; start < flat.size(); start += num_columns) {
    std::vector<std::string> row;
    for (size_t c = 0; c < num_columns; ++c) row.push_back(start + c < flat.size() ? flat[start + c] : "None");
    rows.push_back(row);
  }
  return ascii_table(rows);
}

}  // namespace cppdet::evaluation
