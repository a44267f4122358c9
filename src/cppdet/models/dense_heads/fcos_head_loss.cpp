// FCOSHead training: per-point targets (mmdet's FCOSHead.get_targets / _get_target_single,
// centerness_target) and the three losses.
#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/dense_heads/fcos_head.h"
#include "cppdet/models/losses/loss.h"
#include "cppdet/models/task/bbox_coder.h"
#include "cppdet/models/task/prior_generator.h"

namespace cppdet::models {

namespace {

constexpr double kFcosInf = 1e8;

// sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b)) of distances [P, 4] (l, t, r, b).
torch::Tensor centerness_target(const torch::Tensor& d) {
  if (d.size(0) == 0) return d.select(1, 0);
  const torch::Tensor lr = torch::stack({d.select(1, 0), d.select(1, 2)}, 1);
  const torch::Tensor tb = torch::stack({d.select(1, 1), d.select(1, 3)}, 1);
  const torch::Tensor c = (std::get<0>(lr.min(-1)) / std::get<0>(lr.max(-1))) *
                          (std::get<0>(tb.min(-1)) / std::get<0>(tb.max(-1)));
  return c.sqrt();
}

}  // namespace

void FCOSHead::prepare_training() {
  if (loss_cls_) return;
  loss_cls_ = loss_registry().build(options_.loss_cls, options_.loss_cls_path);
  loss_bbox_ = loss_registry().build(options_.loss_bbox, options_.loss_bbox_path);
  loss_centerness_ = loss_registry().build(options_.loss_centerness, options_.loss_centerness_path);
}

std::pair<torch::Tensor, torch::Tensor> FCOSHead::point_targets(const torch::Tensor& points,
                                                                const std::vector<int64_t>& num_points_per_level,
                                                                const GtInstances& gt) const {
  const int64_t num_points = points.size(0), num_gts = gt.labels.size(0);
  if (num_gts == 0)
    return {torch::full({num_points}, options_.num_classes, gt.labels.options()),
            torch::zeros({num_points, 4}, gt.bboxes.options())};
  const torch::Tensor& b = gt.bboxes;  // [K, 4]
  // Per point its level's regress range [P, 2] and, with center sampling, stride * radius [P].
  std::vector<torch::Tensor> ranges, radii;
  for (size_t l = 0; l < num_points_per_level.size(); ++l) {
    const auto [lo, hi] = options_.regress_ranges[l];
    ranges.push_back(torch::tensor({lo, hi}, points.options()).unsqueeze(0).expand({num_points_per_level[l], 2}));
    radii.push_back(torch::full({num_points_per_level[l]}, options_.strides[l] * options_.center_sample_radius,
                                points.options()));
  }
  const torch::Tensor regress_ranges = torch::cat(ranges).unsqueeze(1).expand({num_points, num_gts, 2});
  torch::Tensor areas = ((b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1))).unsqueeze(0).repeat({num_points, 1});
  const torch::Tensor gb = b.unsqueeze(0).expand({num_points, num_gts, 4});
  const torch::Tensor xs = points.select(1, 0).unsqueeze(1).expand({num_points, num_gts});
  const torch::Tensor ys = points.select(1, 1).unsqueeze(1).expand({num_points, num_gts});
  auto c = [](const torch::Tensor& t, int64_t k) { return t.select(2, k); };
  const torch::Tensor bbox_targets =
      torch::stack({xs - c(gb, 0), ys - c(gb, 1), c(gb, 2) - xs, c(gb, 3) - ys}, -1);  // [P, K, 4]

  torch::Tensor inside_gt_bbox_mask;
  if (options_.center_sampling) {
    // Inside the gt box clipped to its centre +- stride * radius.
    const torch::Tensor center_xs = (c(gb, 0) + c(gb, 2)) / 2;
    const torch::Tensor center_ys = (c(gb, 1) + c(gb, 3)) / 2;
    const torch::Tensor stride = torch::cat(radii).unsqueeze(1).expand({num_points, num_gts});
    const torch::Tensor x_mins = center_xs - stride, y_mins = center_ys - stride;
    const torch::Tensor x_maxs = center_xs + stride, y_maxs = center_ys + stride;
    const torch::Tensor cx1 = torch::where(x_mins > c(gb, 0), x_mins, c(gb, 0));
    const torch::Tensor cy1 = torch::where(y_mins > c(gb, 1), y_mins, c(gb, 1));
    const torch::Tensor cx2 = torch::where(x_maxs > c(gb, 2), c(gb, 2), x_maxs);
    const torch::Tensor cy2 = torch::where(y_maxs > c(gb, 3), c(gb, 3), y_maxs);
    const torch::Tensor center_bbox = torch::stack({xs - cx1, ys - cy1, cx2 - xs, cy2 - ys}, -1);
    inside_gt_bbox_mask = std::get<0>(center_bbox.min(-1)) > 0;
  } else {
    inside_gt_bbox_mask = std::get<0>(bbox_targets.min(-1)) > 0;
  }
  const torch::Tensor max_regress_distance = std::get<0>(bbox_targets.max(-1));
  const torch::Tensor inside_regress_range =
      (max_regress_distance >= c(regress_ranges, 0)) & (max_regress_distance <= c(regress_ranges, 1));
  areas.masked_fill_(inside_gt_bbox_mask.logical_not(), kFcosInf);
  areas.masked_fill_(inside_regress_range.logical_not(), kFcosInf);
  auto [min_area, min_area_inds] = areas.min(1);
  torch::Tensor labels = gt.labels.index_select(0, min_area_inds);
  labels.masked_fill_(min_area == kFcosInf, options_.num_classes);
  const torch::Tensor targets = bbox_targets.index({torch::arange(num_points, min_area_inds.options()), min_area_inds});
  return {labels, targets};
}

LossTerms FCOSHead::loss(const DenseHeadOutputs& outputs, const std::vector<ImageMeta>& metas,
                         const std::vector<GtInstances>& gts, DebugTrace* trace) {
  prepare_training();
  const int64_t num_imgs = static_cast<int64_t>(metas.size());
  if (static_cast<int64_t>(gts.size()) != num_imgs)
    throw UserError("dense head loss: " + std::to_string(gts.size()) + " ground truths for " +
                    std::to_string(num_imgs) + " images");
  std::vector<FeatSize> sizes;
  for (const torch::Tensor& s : outputs.cls_scores) sizes.emplace_back(s.size(2), s.size(3));
  const torch::Tensor& ref = outputs.bbox_preds.at(0);
  const std::vector<torch::Tensor> level_points = prior_generator_->grid_priors(sizes, torch::kFloat32, ref.device());
  std::vector<int64_t> num_points;
  for (const torch::Tensor& p : level_points) num_points.push_back(p.size(0));
  const torch::Tensor all_points = torch::cat(level_points);

  // Targets per image, then regrouped level-major (images concatenated within a level).
  std::vector<std::vector<torch::Tensor>> img_labels, img_targets;
  for (const GtInstances& gt : gts) {
    auto [labels, targets] = point_targets(all_points, num_points, gt);
    img_labels.push_back(labels.split(num_points));
    img_targets.push_back(targets.split(num_points));
  }
  std::vector<torch::Tensor> flat_cls, flat_reg, flat_ctr, flat_labels, flat_targets, flat_points;
  for (size_t l = 0; l < level_points.size(); ++l) {
    std::vector<torch::Tensor> lab, tgt;
    for (int64_t i = 0; i < num_imgs; ++i) {
      lab.push_back(img_labels[i][l]);
      tgt.push_back(img_targets[i][l]);
    }
    flat_labels.push_back(torch::cat(lab));
    torch::Tensor t = torch::cat(tgt);
    if (options_.norm_on_bbox) t = t / options_.strides[l];
    flat_targets.push_back(t);
    flat_cls.push_back(outputs.cls_scores[l].permute({0, 2, 3, 1}).reshape({-1, cls_out_channels_}));
    flat_reg.push_back(outputs.bbox_preds[l].permute({0, 2, 3, 1}).reshape({-1, 4}));
    flat_ctr.push_back(outputs.score_factors[l].permute({0, 2, 3, 1}).reshape({-1}));
    flat_points.push_back(level_points[l].repeat({num_imgs, 1}));
  }
  const torch::Tensor cls_scores = torch::cat(flat_cls), bbox_preds = torch::cat(flat_reg);
  const torch::Tensor centerness = torch::cat(flat_ctr), labels = torch::cat(flat_labels);
  const torch::Tensor bbox_targets = torch::cat(flat_targets), points = torch::cat(flat_points);
  if (trace) trace->record("bbox_head.labels", labels);

  const torch::Tensor pos_inds = torch::nonzero((labels >= 0) & (labels < options_.num_classes)).reshape({-1});
  const double num_pos = std::max(static_cast<double>(pos_inds.size(0)), 1.0);
  const torch::Tensor loss_cls = (*loss_cls_)(cls_scores, labels, {}, num_pos);

  const torch::Tensor pos_bbox_preds = bbox_preds.index_select(0, pos_inds);
  const torch::Tensor pos_centerness = centerness.index_select(0, pos_inds);
  const torch::Tensor pos_bbox_targets = bbox_targets.index_select(0, pos_inds);
  const torch::Tensor pos_centerness_targets = centerness_target(pos_bbox_targets);
  const double centerness_denorm = std::max(pos_centerness_targets.sum().item<double>(), 1e-6);
  torch::Tensor loss_bbox, loss_centerness;
  if (pos_inds.size(0) > 0) {
    const torch::Tensor pos_points = points.index_select(0, pos_inds);
    const torch::Tensor decoded_preds = bbox_coder_->decode(pos_points, pos_bbox_preds);
    const torch::Tensor decoded_targets = bbox_coder_->decode(pos_points, pos_bbox_targets);
    loss_bbox = (*loss_bbox_)(decoded_preds, decoded_targets, pos_centerness_targets, centerness_denorm);
    loss_centerness = (*loss_centerness_)(pos_centerness, pos_centerness_targets, {}, num_pos);
  } else {
    loss_bbox = pos_bbox_preds.sum();
    loss_centerness = pos_centerness.sum();
  }
  return {{"loss_cls", loss_cls}, {"loss_bbox", loss_bbox}, {"loss_centerness", loss_centerness}};
}

}  // namespace cppdet::models
