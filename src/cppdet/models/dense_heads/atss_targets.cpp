#include "cppdet/models/dense_heads/atss_targets.h"

#include "cppdet/core/error.h"
#include "cppdet/models/dense_heads/anchor_head.h"
#include "cppdet/models/task/atss_assigner.h"
#include "cppdet/models/task/bbox_coder.h"
#include "cppdet/models/task/pseudo_sampler.h"

namespace cppdet::models {

AtssTargets atss_targets(const std::vector<torch::Tensor>& level_anchors, const std::vector<FeatSize>& featmap_sizes,
                         const PriorGenerator& generator, const std::vector<ImageMeta>& metas,
                         const std::vector<GtInstances>& gts, const AtssTargetSettings& s, DebugTrace* trace) {
  const size_t num_imgs = metas.size();
  if (gts.size() != num_imgs)
    throw UserError("dense head loss: " + std::to_string(gts.size()) + " ground truths for " +
                    std::to_string(num_imgs) + " images");
  std::vector<int64_t> num_level_anchors;
  for (const torch::Tensor& a : level_anchors) num_level_anchors.push_back(a.size(0));
  const torch::Tensor flat_anchors = torch::cat(level_anchors);
  const int64_t total = flat_anchors.size(0);
  const torch::Device device = flat_anchors.device();
  PseudoSampler sampler;

  std::vector<torch::Tensor> labels_img, weights_img, targets_img;
  int64_t num_total_pos = 0;
  for (size_t i = 0; i < num_imgs; ++i) {
    const ImageMeta& meta = metas[i];
    const GtInstances& gt = gts[i];
    const torch::Tensor valid = torch::cat(generator.valid_flags(featmap_sizes, {meta.pad_shape[0], meta.pad_shape[1]}, device));
    const torch::Tensor inside = anchor_inside_flags(flat_anchors, valid, meta, s.allowed_border);
    const torch::Tensor inside_inds = torch::nonzero(inside).squeeze(1);
    if (inside_inds.numel() == 0)
      throw UserError("image " + meta.filename + ": no anchor lies inside the image (allowed_border " +
                      std::to_string(s.allowed_border) + ")");
    std::vector<int64_t> num_level_inside;
    for (const torch::Tensor& flags : inside.split(num_level_anchors)) num_level_inside.push_back(flags.sum().item<int64_t>());
    const torch::Tensor anchors = flat_anchors.index_select(0, inside_inds);
    AssignResult assigned = s.assigner->assign(anchors, num_level_inside, gt.bboxes, gt.bboxes_ignore, gt.labels);
    if (trace) {
      const std::string b = std::to_string(i);
      trace->record(s.trace_name + ".assign.gt_inds." + b, assigned.gt_inds);
      trace->record(s.trace_name + ".assign.max_overlaps." + b, assigned.max_overlaps);
      trace->record(s.trace_name + ".assign.labels." + b, assigned.labels);
    }
    const SamplingResult sampled = sampler.sample(assigned, anchors, gt.bboxes, gt.labels);

    const int64_t n = anchors.size(0);
    torch::Tensor labels = torch::full({n}, s.num_classes, anchors.options().dtype(torch::kLong));
    torch::Tensor label_weights = torch::zeros({n}, anchors.options());
    torch::Tensor bbox_targets = torch::zeros_like(anchors);
    const torch::Tensor& pos = sampled.pos_inds;
    const torch::Tensor& neg = sampled.neg_inds;
    if (pos.numel() > 0) {
      const torch::Tensor pos_targets =
          s.coder ? s.coder->encode(sampled.pos_bboxes, sampled.pos_gt_bboxes) : sampled.pos_gt_bboxes;
      bbox_targets.index_copy_(0, pos, pos_targets.to(bbox_targets.dtype()));
      labels.index_copy_(0, pos, gt.labels.to(torch::kLong).index_select(0, sampled.pos_assigned_gt_inds));
      label_weights.index_fill_(0, pos, s.pos_weight <= 0 ? 1.0 : s.pos_weight);
    }
    if (neg.numel() > 0) label_weights.index_fill_(0, neg, 1.0);
    num_total_pos += std::max<int64_t>(pos.numel(), 1);

    labels_img.push_back(torch::full({total}, s.num_classes, labels.options()).index_copy_(0, inside_inds, labels));
    weights_img.push_back(torch::zeros({total}, label_weights.options()).index_copy_(0, inside_inds, label_weights));
    targets_img.push_back(torch::zeros({total, 4}, bbox_targets.options()).index_copy_(0, inside_inds, bbox_targets));
  }

  AtssTargets t;
  t.num_total_samples = std::max(static_cast<double>(num_total_pos), 1.0);
  int64_t start = 0;
  for (size_t l = 0; l < level_anchors.size(); ++l) {
    const int64_t n_l = num_level_anchors[l];
    std::vector<torch::Tensor> lab, w, tgt;
    for (size_t i = 0; i < num_imgs; ++i) {
      lab.push_back(labels_img[i].narrow(0, start, n_l));
      w.push_back(weights_img[i].narrow(0, start, n_l));
      tgt.push_back(targets_img[i].narrow(0, start, n_l));
    }
    // mmdet zeroes the anchors outside an image here; only the positives' anchors are used.
    std::vector<torch::Tensor> anc(num_imgs, level_anchors[l]);
    t.anchors.push_back(torch::cat(anc));
    t.labels.push_back(torch::cat(lab));
    t.label_weights.push_back(torch::cat(w));
    t.bbox_targets.push_back(torch::cat(tgt));
    start += n_l;
  }
  return t;
}

}  // namespace cppdet::models
