#pragma once
// Gradient checkpointing (torch.utils.checkpoint, its reentrant variant that mmdet's `with_cp`
// uses): the forward pass runs without recording the graph, so the intermediate activations of
// `fn` are freed; the backward pass runs `fn` again on the saved input with the graph on and
// back-propagates through that recomputation. Outputs and gradients equal those of fn(x); only
// memory is traded for a second forward. As in PyTorch, modules whose forward changes state
// (BatchNorm in training mode updates its running statistics) do so twice per step.
#include <torch/types.h>

#include <functional>

namespace cppdet::models {

// fn(x); when autograd records (grad mode on and x requires grad), recomputed in backward.
// Gradients reach x and every parameter fn uses.
torch::Tensor checkpoint(const std::function<torch::Tensor(const torch::Tensor&)>& fn, const torch::Tensor& x);

}  // namespace cppdet::models
