#pragma once
// The MKL-DNN (oneDNN) CPU inference path, on by default in apis::init_detector on "cpu"
// (docs/inference.md). Backbones that have one (ResNet) fold each BatchNorm into its conv,
// reorder the weights into oneDNN's blocked layout once, and keep the activations in that
// layout from the stem to each returned stage (dense again from the neck on). Detections agree
// with the plain modules up to float rounding (the folding changes the order of operations).
//
// The path copies the weights when it is turned on, and again on the next forward after they
// change (load_state_dict, in-place edits, moves). train(true) drops it; it is only taken in
// eval mode, for float CPU input, without autograd (simple_test), so training and CUDA never
// use it.
#include <torch/nn/module.h>

#include <cstdint>

namespace cppdet::models {

// Turns the path on or off for every backbone in `model` (e.g. a Detector); returns how many
// backbones use it afterwards (0 when off, in training mode, off the CPU, or without MKL-DNN).
int64_t set_mkldnn_inference(torch::nn::Module& model, bool on);

}  // namespace cppdet::models
