#include "cppdet/models/task/atss_assigner.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/bbox_overlaps.h"

namespace cppdet::models {

ATSSAssignerOptions ATSSAssignerOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  ATSSAssignerOptions o;
  o.topk = r.get_int("topk");
  if (o.topk < 1) throw ConfigError(r.path_of("topk") + ": must be >= 1");
  o.ignore_iof_thr = r.get_number("ignore_iof_thr", -1);
  if (r.get_optional("alpha"))
    throw ConfigError(r.path_of("alpha") + ": the dynamic-cost ATSS (DDOD) is not supported; use alpha=None");
  if (const config::Value* calc = r.get_optional("iou_calculator")) {
    config::ConfigReader c(*calc, r.path_of("iou_calculator"));
    if (c.get_string("type") != "BboxOverlaps2D")
      throw ConfigError(c.path_of("type") + ": only BboxOverlaps2D is supported");
    c.finish();
  }
  r.finish();
  return o;
}

AssignResult ATSSAssigner::assign(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                  const torch::Tensor&) const {
  throw UserError("ATSSAssigner needs the number of priors per pyramid level; use it with ATSSHead or GFLHead");
}

AssignResult ATSSAssigner::assign(const torch::Tensor& bboxes_in, const std::vector<int64_t>& num_level_bboxes,
                                  const torch::Tensor& gt_bboxes, const torch::Tensor& gt_bboxes_ignore,
                                  const torch::Tensor& gt_labels) const {
  constexpr double kInf = 100000000;
  const torch::Tensor bboxes = bboxes_in.narrow(1, 0, 4);
  const int64_t num_gt = gt_bboxes.size(0), num_bboxes = bboxes.size(0);
  const torch::Tensor overlaps = ops::bbox_overlaps(bboxes, gt_bboxes);  // [M, K]
  const auto long_opts = bboxes.options().dtype(torch::kLong);
  AssignResult result;
  result.num_gts = num_gt;
  result.gt_inds = torch::zeros({num_bboxes}, long_opts);
  if (num_gt == 0 || num_bboxes == 0) {
    result.max_overlaps = torch::zeros({num_bboxes}, bboxes.options());
    if (gt_labels.defined()) result.labels = torch::full({num_bboxes}, -1, long_opts);
    return result;
  }

  const torch::Tensor gt_cx = (gt_bboxes.select(1, 0) + gt_bboxes.select(1, 2)) / 2.0;
  const torch::Tensor gt_cy = (gt_bboxes.select(1, 1) + gt_bboxes.select(1, 3)) / 2.0;
  const torch::Tensor gt_points = torch::stack({gt_cx, gt_cy}, 1);
  const torch::Tensor bboxes_cx = (bboxes.select(1, 0) + bboxes.select(1, 2)) / 2.0;
  const torch::Tensor bboxes_cy = (bboxes.select(1, 1) + bboxes.select(1, 3)) / 2.0;
  const torch::Tensor bboxes_points = torch::stack({bboxes_cx, bboxes_cy}, 1);
  torch::Tensor distances = (bboxes_points.unsqueeze(1) - gt_points.unsqueeze(0)).pow(2).sum(-1).sqrt();  // [M, K]

  if (options_.ignore_iof_thr > 0 && gt_bboxes_ignore.defined() && gt_bboxes_ignore.numel() > 0) {
    const torch::Tensor ignore_overlaps = ops::bbox_overlaps(bboxes, gt_bboxes_ignore, ops::OverlapMode::kIoF);
    const torch::Tensor ignore_idxs = std::get<0>(ignore_overlaps.max(1)) > options_.ignore_iof_thr;
    distances.index_put_({ignore_idxs}, kInf);
    result.gt_inds.index_put_({ignore_idxs}, -1);
  }

  // The topk nearest candidates per level and gt: [L * topk, K] indices into all candidates.
  std::vector<torch::Tensor> candidates;
  int64_t start = 0;
  for (int64_t per_level : num_level_bboxes) {
    const torch::Tensor level = distances.narrow(0, start, per_level);
    const int64_t k = std::min(options_.topk, per_level);
    candidates.push_back(std::get<1>(level.topk(k, 0, /*largest=*/false)) + start);
    start += per_level;
  }
  TORCH_CHECK(start == num_bboxes, "ATSSAssigner: the level counts add up to ", start, ", not ", num_bboxes);
  torch::Tensor candidate_idxs = torch::cat(candidates, 0);
  const torch::Tensor gt_range = torch::arange(num_gt, long_opts);
  const torch::Tensor candidate_overlaps = overlaps.index({candidate_idxs, gt_range});
  const torch::Tensor thr = candidate_overlaps.mean(0) + candidate_overlaps.std(0);
  torch::Tensor is_pos = candidate_overlaps >= thr.unsqueeze(0);

  // Candidate centres must lie inside their gt.
  candidate_idxs = (candidate_idxs + gt_range * num_bboxes).view(-1);
  const torch::Tensor ep_cx = bboxes_cx.view({1, -1}).expand({num_gt, num_bboxes}).contiguous().view(-1);
  const torch::Tensor ep_cy = bboxes_cy.view({1, -1}).expand({num_gt, num_bboxes}).contiguous().view(-1);
  const torch::Tensor cand_cx = ep_cx.index_select(0, candidate_idxs).view({-1, num_gt});
  const torch::Tensor cand_cy = ep_cy.index_select(0, candidate_idxs).view({-1, num_gt});
  const torch::Tensor l = cand_cx - gt_bboxes.select(1, 0);
  const torch::Tensor t = cand_cy - gt_bboxes.select(1, 1);
  const torch::Tensor r = gt_bboxes.select(1, 2) - cand_cx;
  const torch::Tensor b = gt_bboxes.select(1, 3) - cand_cy;
  const torch::Tensor is_in_gts = std::get<0>(torch::stack({l, t, r, b}, 1).min(1)) > 0.01;
  is_pos = is_pos & is_in_gts;

  // A candidate positive for several gts keeps the gt of highest IoU.
  torch::Tensor overlaps_inf = torch::full_like(overlaps, -kInf).t().contiguous().view(-1);
  const torch::Tensor index = candidate_idxs.masked_select(is_pos.view(-1));
  overlaps_inf.index_put_({index}, overlaps.t().contiguous().view(-1).index_select(0, index));
  overlaps_inf = overlaps_inf.view({num_gt, -1}).t();
  auto [max_overlaps, argmax_overlaps] = overlaps_inf.max(1);
  const torch::Tensor assigned = max_overlaps != -kInf;
  result.gt_inds.index_put_({assigned}, argmax_overlaps.index({assigned}) + 1);
  result.max_overlaps = max_overlaps;
  if (gt_labels.defined()) {
    result.labels = torch::full({num_bboxes}, -1, long_opts);
    const torch::Tensor pos_inds = torch::nonzero(result.gt_inds > 0).squeeze(1);
    if (pos_inds.numel() > 0)
      result.labels.index_put_({pos_inds}, gt_labels.to(long_opts).index_select(0, result.gt_inds.index_select(0, pos_inds) - 1));
  }
  return result;
}

}  // namespace cppdet::models
