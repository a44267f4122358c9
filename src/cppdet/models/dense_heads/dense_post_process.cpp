#include "cppdet/models/dense_heads/dense_post_process.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/nms.h"

namespace cppdet::models {

int64_t python_slice_len(int64_t k, int64_t n) {
  if (k < 0) return std::max<int64_t>(n + k, 0);
  return std::min(k, n);
}

DenseTestConfig DenseTestConfig::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  DenseTestConfig c;
  c.nms_pre = r.get_int("nms_pre", -1);
  c.score_thr = r.get_number("score_thr", 0.0);
  c.min_bbox_size = r.get_number("min_bbox_size", 0.0);
  if (const config::Value* nms = r.get_optional("nms")) {
    c.nms = NmsConfig::from_config(*nms, r.path_of("nms"));
  } else if (r.has("nms_thr")) {
    c.nms.iou_threshold = r.get_number("nms_thr");
  } else {
    throw ConfigError(r.path_of("nms") + ": required key is missing");
  }
  if (r.has("max_per_img")) c.max_per_img = r.get_int("max_per_img");
  else if (r.has("max_num")) c.max_per_img = r.get_int("max_num");
  if (r.get_bool("nms_across_levels", false))
    throw ConfigError(r.path_of("nms_across_levels") + ": nms_across_levels=True is not supported");
  r.ignore({"nms_post", "deploy_nms_pre"});
  r.finish();
  return c;
}

LevelCandidates filter_scores_and_topk(const torch::Tensor& scores_in, double score_thr, int64_t topk) {
  const torch::Tensor valid_mask = scores_in > score_thr;
  const torch::Tensor scores = scores_in.masked_select(valid_mask);
  const torch::Tensor valid_idxs = torch::nonzero(valid_mask);
  const int64_t num_topk = python_slice_len(std::min(topk, valid_idxs.size(0)), scores.size(0));
  auto [sorted, idxs] = scores.sort(0, /*descending=*/true);
  const torch::Tensor topk_idxs = valid_idxs.index_select(0, idxs.narrow(0, 0, num_topk));
  return {sorted.narrow(0, 0, num_topk), topk_idxs.select(1, 1), topk_idxs.select(1, 0)};
}

Detections bbox_post_process(const std::vector<torch::Tensor>& mlvl_bboxes, const std::vector<torch::Tensor>& mlvl_scores,
                             const std::vector<torch::Tensor>& mlvl_labels,
                             const std::vector<torch::Tensor>& mlvl_score_factors, const ImageMeta& meta,
                             const DenseTestConfig& cfg, bool rescale) {
  torch::Tensor bboxes = torch::cat(mlvl_bboxes);
  if (rescale) {
    const auto& sf = meta.scale_factor;
    bboxes = bboxes / torch::tensor({sf[0], sf[1], sf[2], sf[3]}, bboxes.options());
  }
  torch::Tensor scores = torch::cat(mlvl_scores);
  const torch::Tensor labels = torch::cat(mlvl_labels);
  if (!mlvl_score_factors.empty()) scores = scores * torch::cat(mlvl_score_factors);
  if (bboxes.numel() == 0) return {torch::cat({bboxes, scores.unsqueeze(1)}, -1), labels};
  ops::BatchedNmsResult r = ops::batched_nms(bboxes, scores, labels, cfg.nms.iou_threshold, cfg.nms.class_agnostic,
                                             cfg.nms.split_thr, cfg.nms.soft);
  const int64_t k = cfg.max_per_img >= 0 ? python_slice_len(cfg.max_per_img, r.dets.size(0)) : r.dets.size(0);
  return {r.dets.narrow(0, 0, k), labels.index_select(0, r.keep.narrow(0, 0, k))};
}

}  // namespace cppdet::models
