#pragma once
// The keyword arguments of mmdet's dataset.evaluate / format_results, as a typed struct read
// from a config dict (the config's `evaluation` section and `--eval-options`).
#include <cstdint>
#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::data {

struct EvalOptions {
  // COCO-style: bbox, segm, proposal; VOC: mAP, recall. Empty: the dataset's default.
  std::vector<std::string> metrics;
  bool classwise = false;                // COCO: print the per-class AP table
  std::string jsonfile_prefix;           // COCO: also keep <prefix>.bbox.json / .segm.json
  // COCO: iou_thrs (default 0.50:0.05:0.95); VOC: iou_thr (default 0.5).
  std::vector<double> iou_thrs;
  std::vector<int64_t> proposal_nums{100, 300, 1000};
  std::vector<std::string> metric_items;  // COCO: subset of mAP, mAP_50, ..., AR_l@1000
};

// Reads metric (str or list), classwise, jsonfile_prefix, iou_thrs / iou_thr (number or
// list), proposal_nums, metric_items (str or list); `logger` and a None `scale_ranges` are
// accepted and ignored. Unknown keys or wrong types: ConfigError naming `path`.key.
EvalOptions eval_options_from_dict(const config::Dict& kwargs, const std::string& path);

}  // namespace cppdet::data
