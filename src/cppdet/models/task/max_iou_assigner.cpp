#include "cppdet/models/task/max_iou_assigner.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/bbox_overlaps.h"

namespace cppdet::models {

MaxIoUAssignerOptions MaxIoUAssignerOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  MaxIoUAssignerOptions o;
  o.pos_iou_thr = r.get_number("pos_iou_thr");
  const config::Value& neg = r.get("neg_iou_thr");
  if (neg.is_number()) {
    o.neg_iou_lo = 0.0;
    o.neg_iou_hi = neg.as_number();
  } else if (neg.is_sequence() && neg.as_sequence().size() == 2 && neg.as_sequence()[0].is_number() &&
             neg.as_sequence()[1].is_number()) {
    o.neg_iou_lo = neg.as_sequence()[0].as_number();
    o.neg_iou_hi = neg.as_sequence()[1].as_number();
  } else {
    throw ConfigError(r.path_of("neg_iou_thr") + ": expected a number or a pair of numbers, got " + neg.brief());
  }
  o.min_pos_iou = r.get_number("min_pos_iou", 0.0);
  o.gt_max_assign_all = r.get_bool("gt_max_assign_all", true);
  o.ignore_iof_thr = r.get_number("ignore_iof_thr", -1);
  o.ignore_wrt_candidates = r.get_bool("ignore_wrt_candidates", true);
  o.match_low_quality = r.get_bool("match_low_quality", true);
  r.get_number("gpu_assign_thr", -1);  // where the assignment runs; same numbers
  if (const config::Value* calc = r.get_optional("iou_calculator")) {
    config::ConfigReader c(*calc, r.path_of("iou_calculator"));
    if (c.get_string("type") != "BboxOverlaps2D")
      throw ConfigError(c.path_of("type") + ": only BboxOverlaps2D is supported");
    c.finish();
  }
  r.finish();
  return o;
}

AssignResult MaxIoUAssigner::assign(const torch::Tensor& bboxes_in, const torch::Tensor& gt_bboxes,
                                    const torch::Tensor& gt_bboxes_ignore, const torch::Tensor& gt_labels) const {
  const torch::Tensor bboxes = bboxes_in.narrow(1, 0, 4);
  torch::Tensor overlaps = ops::bbox_overlaps(gt_bboxes, bboxes);
  if (options_.ignore_iof_thr > 0 && gt_bboxes_ignore.defined() && gt_bboxes_ignore.numel() > 0 &&
      bboxes.numel() > 0 && overlaps.numel() > 0) {
    torch::Tensor ignore_max;
    if (options_.ignore_wrt_candidates)
      ignore_max = std::get<0>(ops::bbox_overlaps(bboxes, gt_bboxes_ignore, ops::OverlapMode::kIoF).max(1));
    else
      ignore_max = std::get<0>(ops::bbox_overlaps(gt_bboxes_ignore, bboxes, ops::OverlapMode::kIoF).max(0));
    overlaps.index_put_({torch::indexing::Slice(), ignore_max > options_.ignore_iof_thr}, -1);
  }
  return assign_wrt_overlaps(overlaps, gt_labels);
}

AssignResult MaxIoUAssigner::assign_wrt_overlaps(const torch::Tensor& overlaps, const torch::Tensor& gt_labels) const {
  const int64_t num_gts = overlaps.size(0), num_bboxes = overlaps.size(1);
  AssignResult result;
  result.num_gts = num_gts;
  const auto long_opts = overlaps.options().dtype(torch::kLong);
  result.gt_inds = torch::full({num_bboxes}, -1, long_opts);
  if (num_gts == 0 || num_bboxes == 0) {
    result.max_overlaps = torch::zeros({num_bboxes}, overlaps.options());
    if (num_gts == 0) result.gt_inds.fill_(0);
    if (gt_labels.defined()) result.labels = torch::full({num_bboxes}, -1, long_opts);
    return result;
  }
  auto [max_overlaps, argmax_overlaps] = overlaps.max(0);
  auto [gt_max_overlaps, gt_argmax_overlaps] = overlaps.max(1);
  torch::Tensor& gt_inds = result.gt_inds;
  gt_inds.masked_fill_((max_overlaps >= options_.neg_iou_lo) & (max_overlaps < options_.neg_iou_hi), 0);
  const torch::Tensor pos = max_overlaps >= options_.pos_iou_thr;
  gt_inds = torch::where(pos, argmax_overlaps + 1, gt_inds);
  if (options_.match_low_quality) {
    const auto gt_max = gt_max_overlaps.to(torch::kCPU);
    for (int64_t i = 0; i < num_gts; ++i) {
      // float32 comparison, as torch compares a float tensor with a Python number.
      const float best = gt_max[i].item<float>();
      if (!(best >= static_cast<float>(options_.min_pos_iou))) continue;
      if (options_.gt_max_assign_all)
        gt_inds.masked_fill_(overlaps[i] == gt_max_overlaps[i], i + 1);
      else
        gt_inds[gt_argmax_overlaps[i].item<int64_t>()].fill_(i + 1);
    }
  }
  result.max_overlaps = max_overlaps;
  if (gt_labels.defined()) {
    result.labels = torch::full({num_bboxes}, -1, long_opts);
    const torch::Tensor pos_inds = torch::nonzero(gt_inds > 0).squeeze(1);
    if (pos_inds.numel() > 0)
      result.labels.index_copy_(0, pos_inds, gt_labels.to(long_opts).index_select(0, gt_inds.index_select(0, pos_inds) - 1));
  }
  return result;
}

}  // namespace cppdet::models
