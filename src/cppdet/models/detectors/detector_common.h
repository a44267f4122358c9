#pragma once
// Helpers shared by the detector classes.
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/backbones/backbone.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/necks/neck.h"
#include "cppdet/models/registries.h"

namespace cppdet::models {

// Finds the number of foreground classes in a detector config (roi_head.bbox_head, the last
// stage's for a cascade, or bbox_head num_classes) before the heads are built.
int64_t config_num_classes(const config::Value& cfg, const std::string& head_key);

// backbone -> optional neck, recording "backbone.i" / "neck.i" in `trace` (as float32; on a
// bf16 / int8 path the returned features are in that precision's form).
std::vector<torch::Tensor> run_backbone_and_neck(Backbone& backbone, Neck* neck, const torch::Tensor& img,
                                                 DebugTrace* trace);

// Checks the image batch against the metas (one per image, same device).
void check_batch(const torch::Tensor& img, const std::vector<ImageMeta>& metas);

// A training batch's checked ground truths on `device` (bboxes float32, labels int64).
std::vector<GtInstances> gts_on_device(const DetBatch& batch, torch::Device device);

// A HeadConfigs holding cfg[key] of train_cfg / test_cfg when `key` is given, else the
// whole train_cfg / test_cfg.
HeadConfigs head_configs(const config::Value* train_cfg, const config::Value* test_cfg, const std::string& path,
                         const char* key);

}  // namespace cppdet::models
