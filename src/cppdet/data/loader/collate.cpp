#include "cppdet/data/loader/collate.h"

#include <torch/torch.h>

#include <algorithm>

#include "cppdet/core/error.h"

namespace cppdet::data {

DetBatch collate(std::vector<Sample> samples) {
  if (samples.empty()) throw UserError("collate: empty batch");
  int64_t max_h = 0, max_w = 0;
  const torch::Tensor& first = samples.front().inputs;
  for (const Sample& s : samples) {
    if (!s.inputs.defined() || s.inputs.dim() != 3)
      throw UserError("collate: sample '" + s.meta.filename + "' has no [C, H, W] inputs tensor");
    if (s.inputs.size(0) != first.size(0) || s.inputs.scalar_type() != first.scalar_type())
      throw UserError("collate: sample '" + s.meta.filename + "' differs from the batch in channels or dtype");
    max_h = std::max(max_h, s.inputs.size(1));
    max_w = std::max(max_w, s.inputs.size(2));
  }
  DetBatch batch;
  batch.img = torch::zeros({static_cast<int64_t>(samples.size()), first.size(0), max_h, max_w}, first.options());
  for (size_t i = 0; i < samples.size(); ++i) {
    Sample& s = samples[i];
    batch.img[static_cast<int64_t>(i)]
        .narrow(1, 0, s.inputs.size(1))
        .narrow(2, 0, s.inputs.size(2))
        .copy_(s.inputs);
    GtInstances gt;
    gt.bboxes = s.gt_bboxes.defined() ? s.gt_bboxes : torch::zeros({0, 4});
    gt.labels = s.gt_labels.defined() ? s.gt_labels : torch::zeros({0}, torch::kLong);
    gt.bboxes_ignore = s.gt_bboxes_ignore.defined() ? s.gt_bboxes_ignore : torch::zeros({0, 4});
    gt.masks = s.gt_masks;
    batch.metas.push_back(std::move(s.meta));
    batch.gts.push_back(std::move(gt));
  }
  return batch;
}

}  // namespace cppdet::data
