#include "cppdet/models/roi_heads/bbox_heads/bbox_head_loss.h"

#include <algorithm>

#include "cppdet/models/losses/accuracy.h"

namespace cppdet::models {

BBoxTargets bbox_head_targets(const std::vector<SamplingResult>& sampling_results, const BBoxCoder& coder,
                              int64_t num_classes, double pos_weight, bool reg_decoded_bbox) {
  std::vector<torch::Tensor> labels, label_weights, bbox_targets, bbox_weights;
  for (const SamplingResult& s : sampling_results) {
    const int64_t num_pos = s.pos_bboxes.size(0), num_neg = s.neg_bboxes.size(0);
    const int64_t n = num_pos + num_neg;
    const auto opts = s.pos_bboxes.options();
    torch::Tensor l = torch::full({n}, num_classes, opts.dtype(torch::kLong));
    torch::Tensor lw = torch::zeros({n}, opts);
    torch::Tensor bt = torch::zeros({n, 4}, opts);
    torch::Tensor bw = torch::zeros({n, 4}, opts);
    if (num_pos > 0) {
      l.narrow(0, 0, num_pos).copy_(s.pos_gt_labels);
      lw.narrow(0, 0, num_pos).fill_(pos_weight <= 0 ? 1.0 : pos_weight);
      bt.narrow(0, 0, num_pos).copy_(reg_decoded_bbox ? s.pos_gt_bboxes : coder.encode(s.pos_bboxes, s.pos_gt_bboxes));
      bw.narrow(0, 0, num_pos).fill_(1.0);
    }
    if (num_neg > 0) lw.narrow(0, num_pos, num_neg).fill_(1.0);
    labels.push_back(l);
    label_weights.push_back(lw);
    bbox_targets.push_back(bt);
    bbox_weights.push_back(bw);
  }
  return {torch::cat(labels), torch::cat(label_weights), torch::cat(bbox_targets), torch::cat(bbox_weights)};
}

LossTerms bbox_head_loss(const BBoxHeadOutputs& outputs, const torch::Tensor& rois, const BBoxTargets& t,
                         const BBoxLossSettings& s) {
  LossTerms losses;
  if (outputs.cls_score.defined()) {
    const double avg_factor = std::max((t.label_weights > 0).sum().item<double>(), 1.0);
    if (outputs.cls_score.numel() > 0) {
      losses.emplace_back("loss_cls", (*s.loss_cls)(outputs.cls_score, t.labels, t.label_weights, avg_factor));
      losses.emplace_back("acc", accuracy(outputs.cls_score, t.labels));
    }
  }
  if (outputs.bbox_pred.defined()) {
    const torch::Tensor pos = (t.labels >= 0) & (t.labels < s.num_classes);
    const torch::Tensor pos_inds = torch::nonzero(pos).squeeze(1);
    if (pos_inds.numel() > 0) {
      torch::Tensor bbox_pred = outputs.bbox_pred;
      if (s.reg_decoded_bbox) bbox_pred = s.coder->decode(rois.narrow(1, 1, 4), bbox_pred);
      torch::Tensor pos_pred;
      if (s.reg_class_agnostic) {
        pos_pred = bbox_pred.view({bbox_pred.size(0), 4}).index_select(0, pos_inds);
      } else {
        pos_pred = bbox_pred.view({bbox_pred.size(0), -1, 4}).index({pos_inds, t.labels.index_select(0, pos_inds)});
      }
      losses.emplace_back("loss_bbox", (*s.loss_bbox)(pos_pred, t.bbox_targets.index_select(0, pos_inds),
                                                      t.bbox_weights.index_select(0, pos_inds),
                                                      static_cast<double>(t.bbox_targets.size(0))));
    } else {
      losses.emplace_back("loss_bbox", outputs.bbox_pred.index({pos}).sum());
    }
  }
  return losses;
}

}  // namespace cppdet::models
