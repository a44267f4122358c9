#include "cppdet/models/task/multiclass_nms.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/nms.h"

namespace cppdet::models {

using torch::indexing::Slice;

NmsConfig NmsConfig::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  NmsConfig n;
  const std::string type = r.get_string("type", "nms");
  if (type != "nms" && type != "soft_nms")
    throw ConfigError(r.path_of("type") + ": unsupported NMS type '" + type + "'; known: nms, soft_nms");
  // mmcv renames the deprecated `iou_thr`; soft_nms has a default threshold, nms none.
  const char* threshold_key = r.has("iou_thr") && !r.has("iou_threshold") ? "iou_thr" : "iou_threshold";
  if (type == "nms") {
    n.iou_threshold = r.get_number(threshold_key);
    r.ignore({"offset"});  // mmcv accepts offset=0 only for mmdet 2.x models
  } else {
    ops::SoftNmsOptions soft;
    soft.iou_threshold = r.get_number(threshold_key, soft.iou_threshold);
    soft.sigma = r.get_number("sigma", soft.sigma);
    soft.min_score = r.get_number("min_score", soft.min_score);
    const std::string method = r.get_string("method", "linear");
    try {
      soft.method = ops::soft_nms_method(method);
    } catch (const UserError&) {
      throw ConfigError(r.path_of("method") + ": unknown soft_nms method '" + method + "'; known: naive, linear, gaussian");
    }
    soft.offset = r.get_int("offset", 0);
    if (soft.offset != 0 && soft.offset != 1) throw ConfigError(r.path_of("offset") + ": must be 0 or 1");
    n.iou_threshold = soft.iou_threshold;
    n.soft = soft;
  }
  n.class_agnostic = r.get_bool("class_agnostic", false);
  n.split_thr = r.get_int("split_thr", 10000);
  r.finish();
  return n;
}

Detections multiclass_nms(const torch::Tensor& multi_bboxes, const torch::Tensor& multi_scores,
                          double score_thr, const NmsConfig& nms, int64_t max_num) {
  const int64_t num_classes = multi_scores.size(1) - 1;
  const int64_t n = multi_scores.size(0);
  torch::Tensor bboxes = multi_bboxes.size(1) > 4 ? multi_bboxes.view({n, -1, 4})
                                                  : multi_bboxes.unsqueeze(1).expand({n, num_classes, 4});
  torch::Tensor scores = multi_scores.index({Slice(), Slice(0, num_classes)});
  torch::Tensor labels = torch::arange(num_classes, scores.options().dtype(torch::kLong)).view({1, -1}).expand_as(scores);
  bboxes = bboxes.reshape({-1, 4});
  scores = scores.reshape({-1});
  labels = labels.reshape({-1});
  const torch::Tensor inds = (scores > score_thr).nonzero().squeeze(1);
  bboxes = bboxes.index_select(0, inds);
  scores = scores.index_select(0, inds);
  labels = labels.index_select(0, inds);
  if (bboxes.numel() == 0) return {torch::cat({bboxes, scores.unsqueeze(1)}, -1), labels};
  ops::BatchedNmsResult r = ops::batched_nms(bboxes, scores, labels, nms.iou_threshold, nms.class_agnostic, nms.split_thr, nms.soft);
  torch::Tensor dets = r.dets, keep = r.keep;
  if (max_num > 0) {
    dets = dets.index({Slice(0, max_num)});
    keep = keep.index({Slice(0, max_num)});
  }
  return {dets, labels.index_select(0, keep)};
}

}  // namespace cppdet::models
