#pragma once
// mmdet 2.x RandomSampler (BaseSampler.sample + random choice):
//  * candidates are cut to 4 columns; with add_gt_as_proposals (and gts) the gt boxes are
//    prepended and assigned to themselves (AssignResult::add_gt);
//  * positives: all gt_inds > 0 when there are at most int(num * pos_fraction), else that many
//    picked by randperm; negatives likewise up to num - #pos (capped at
//    int(neg_pos_ub * max(1, #pos)) when neg_pos_ub >= 0); both sorted (unique).
// Random numbers come from torch::randperm on the CPU with `generator` when given, else the
// default CPU generator (torch::manual_seed makes runs reproducible; the same seed gives the
// same permutations as Python torch.randperm). Config keys: num, pos_fraction,
// neg_pos_ub (-1), add_gt_as_proposals (True).
#include <optional>
#include <string>

#include <ATen/core/Generator.h>

#include "cppdet/config/value.h"
#include "cppdet/models/task/sampler.h"

namespace cppdet::models {

struct RandomSamplerOptions {
  int64_t num = 256;
  double pos_fraction = 0.5;
  double neg_pos_ub = -1;
  bool add_gt_as_proposals = true;

  static RandomSamplerOptions from_config(const config::Value& cfg, const std::string& path);
};

class RandomSampler : public BBoxSampler {
 public:
  explicit RandomSampler(RandomSamplerOptions options, std::optional<at::Generator> generator = std::nullopt)
      : options_(options), generator_(std::move(generator)) {}
  SamplingResult sample(AssignResult& assign_result, const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes,
                        const torch::Tensor& gt_labels) override;
  // `num` elements of `gallery` [G] chosen by randperm(G)[:num] (mmdet's random_choice).
  torch::Tensor random_choice(const torch::Tensor& gallery, int64_t num);

 private:
  RandomSamplerOptions options_;
  std::optional<at::Generator> generator_;
};

}  // namespace cppdet::models
