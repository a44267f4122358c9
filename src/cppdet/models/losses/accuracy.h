#pragma once
// mmdet's accuracy(pred, target) with topk=1: the percentage (0..100) of rows of pred [N, C]
// whose argmax (topk order) equals target [N]. A float32 scalar without autograd history;
// 0 for N == 0.
#include <torch/types.h>

namespace cppdet::models {

torch::Tensor accuracy(const torch::Tensor& pred, const torch::Tensor& target);

}  // namespace cppdet::models
