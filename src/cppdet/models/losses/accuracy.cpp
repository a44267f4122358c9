#include "cppdet/models/losses/accuracy.h"

namespace cppdet::models {

torch::Tensor accuracy(const torch::Tensor& pred_in, const torch::Tensor& target) {
  const torch::Tensor pred = pred_in.detach();
  if (pred.size(0) == 0) return torch::zeros({}, pred.options());
  const torch::Tensor top1 = std::get<1>(pred.topk(1, /*dim=*/1)).select(1, 0);
  const torch::Tensor correct = top1.eq(target).to(torch::kFloat32).sum();
  return correct.mul(100.0 / static_cast<double>(pred.size(0)));
}

}  // namespace cppdet::models
