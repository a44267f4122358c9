#pragma once
// mmdet 2.x CrossEntropyLoss, three criteria chosen by the config:
//  * softmax (default): pred [N, C] logits, target [N] int64 class ids, weight [N];
//  * use_sigmoid=True: binary cross-entropy with logits. With pred [N, C] and target [N]
//    class ids, target becomes one-hot over the C channels (ids >= C, e.g. the background
//    id, give all-zero rows) and weight [N] is repeated over the channels; ignore_index
//    entries get weight 0;
//  * use_mask=True: pred [N, C, h, w] mask logits, target [N, h, w] {0, 1} float, and the
//    third argument is the label [N] selecting each RoI's channel; the result is the plain
//    mean over N*h*w (avg_factor / reduction are ignored, as in mmdet).
// Config keys: use_sigmoid, use_mask, reduction ('mean'), class_weight (list or None),
// ignore_index (None = -100), loss_weight (1.0), avg_non_ignore (False).
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/losses/loss.h"

namespace cppdet::models {

struct CrossEntropyLossOptions {
  bool use_sigmoid = false;
  bool use_mask = false;
  Reduction reduction = Reduction::kMean;
  std::vector<double> class_weight;  // empty: none
  std::optional<int64_t> ignore_index;
  double loss_weight = 1.0;
  bool avg_non_ignore = false;

  static CrossEntropyLossOptions from_config(const config::Value& cfg, const std::string& path);
};

class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossOptions options = {});
  torch::Tensor forward(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& weight = {},
                        std::optional<double> avg_factor = std::nullopt,
                        std::optional<Reduction> reduction_override = std::nullopt) const override;
  const CrossEntropyLossOptions& options() const { return options_; }

 private:
  torch::Tensor softmax_ce(const torch::Tensor& pred, const torch::Tensor& label, const torch::Tensor& weight,
                           Reduction reduction, std::optional<double> avg_factor) const;
  torch::Tensor sigmoid_bce(const torch::Tensor& pred, const torch::Tensor& label, const torch::Tensor& weight,
                            Reduction reduction, std::optional<double> avg_factor) const;
  torch::Tensor mask_ce(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& label) const;

  CrossEntropyLossOptions options_;
};

}  // namespace cppdet::models
