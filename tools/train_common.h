#pragma once
// What `cppdet train` and `cppdet train-step` share: building the model to train and moving
// a collated batch to its device.
#include <torch/types.h>

#include <memory>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/models/detector.h"
#include "cppdet/structures/det_sample.h"

namespace cppdet::tools {

// cfg.model built with mmdet's from-scratch initialisation (models/init/init_weights.h), the
// random draws seeded with `seed`, moved to `device` ("cpu", "cuda:N"), in train() mode.
std::shared_ptr<models::Detector> build_model_for_training(const config::Value& cfg, int64_t seed,
                                                           const std::string& device);

// The batch's image and ground truth on `device` (a no-op copy on the same device).
DetBatch batch_to_device(const DetBatch& batch, const torch::Device& device);

// The config's data.<split> node; ConfigError naming the key when absent.
const config::Value& data_split(const config::Value& cfg, const std::string& split);

}  // namespace cppdet::tools
