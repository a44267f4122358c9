#include "cppdet/models/task/random_sampler.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

RandomSamplerOptions RandomSamplerOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  RandomSamplerOptions o;
  o.num = r.get_int("num");
  o.pos_fraction = r.get_number("pos_fraction");
  o.neg_pos_ub = r.get_number("neg_pos_ub", -1);
  o.add_gt_as_proposals = r.get_bool("add_gt_as_proposals", true);
  r.finish();
  if (o.num < 0) throw ConfigError(r.path_of("num") + ": must be >= 0");
  if (o.pos_fraction < 0 || o.pos_fraction > 1) throw ConfigError(r.path_of("pos_fraction") + ": must be in [0, 1]");
  return o;
}

torch::Tensor RandomSampler::random_choice(const torch::Tensor& gallery, int64_t num) {
  TORCH_CHECK(gallery.numel() >= num, "RandomSampler: cannot pick ", num, " of ", gallery.numel());
  const auto opts = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor perm =
      (generator_ ? torch::randperm(gallery.numel(), *generator_, opts) : torch::randperm(gallery.numel(), opts))
          .narrow(0, 0, num)
          .to(gallery.device());
  return gallery.index_select(0, perm);
}

SamplingResult RandomSampler::sample(AssignResult& assign_result, const torch::Tensor& bboxes_in,
                                     const torch::Tensor& gt_bboxes, const torch::Tensor& gt_labels) {
  torch::Tensor bboxes = bboxes_in.dim() < 2 ? bboxes_in.unsqueeze(0) : bboxes_in;
  bboxes = bboxes.narrow(1, 0, 4);
  torch::Tensor gt_flags = torch::zeros({bboxes.size(0)}, bboxes.options().dtype(torch::kUInt8));
  if (options_.add_gt_as_proposals && gt_bboxes.size(0) > 0) {
    if (!gt_labels.defined()) throw UserError("RandomSampler: add_gt_as_proposals needs gt labels");
    bboxes = torch::cat({gt_bboxes.to(bboxes.dtype()), bboxes});
    assign_result.add_gt(gt_labels);
    gt_flags = torch::cat({torch::ones({gt_bboxes.size(0)}, gt_flags.options()), gt_flags});
  }
  const int64_t num_expected_pos = static_cast<int64_t>(static_cast<double>(options_.num) * options_.pos_fraction);
  torch::Tensor pos = torch::nonzero(assign_result.gt_inds > 0).squeeze(-1);
  if (pos.numel() > num_expected_pos) pos = random_choice(pos, num_expected_pos);
  pos = std::get<0>(at::_unique(pos, /*sorted=*/true));
  const int64_t num_sampled_pos = pos.numel();
  int64_t num_expected_neg = options_.num - num_sampled_pos;
  if (options_.neg_pos_ub >= 0) {
    const int64_t upper = static_cast<int64_t>(options_.neg_pos_ub * static_cast<double>(std::max<int64_t>(1, num_sampled_pos)));
    num_expected_neg = std::min(num_expected_neg, upper);
  }
  torch::Tensor neg = torch::nonzero(assign_result.gt_inds == 0).squeeze(-1);
  if (neg.numel() > num_expected_neg) neg = random_choice(neg, num_expected_neg);
  neg = std::get<0>(at::_unique(neg, /*sorted=*/true));
  return SamplingResult(pos, neg, bboxes, gt_bboxes, assign_result, gt_flags);
}

}  // namespace cppdet::models
