#pragma once
// The model component registries (mmdet's BACKBONES, NECKS, HEADS, DETECTORS, ...). Built-in
// components are registered in one place, models/register_builtin.cpp, the first time any
// registry is used. A user's own component registers the same way before building, e.g.
//
//   models::neck_registry().add("AugFPN", [](const BuildContext& ctx) -> std::shared_ptr<Neck> {
//     return std::make_shared<AugFPN>(AugFPNOptions::from_config(ctx.cfg, ctx.path));
//   });
//
// (see docs/custom_modules.md). Builders receive the component's config dict and key path.
#include <memory>
#include <string>

#include "cppdet/config/value.h"
#include "cppdet/registry/registry.h"

namespace cppdet::models {

class Backbone;
class Neck;
class DenseHead;
class RoIHead;
class RoIExtractor;
class BBoxHead;
class MaskHead;
class Detector;
class BBoxCoder;
class PriorGenerator;
class Loss;
class BBoxAssigner;
class BBoxSampler;
class PluginLayer;

// A head's share of model.train_cfg / model.test_cfg, as mmdet hands them down
// (e.g. test_cfg.rpn to rpn_head, test_cfg.rcnn to roi_head). None when absent.
struct HeadConfigs {
  config::Value train_cfg;
  std::string train_cfg_path;
  config::Value test_cfg;
  std::string test_cfg_path;
};

using BackboneRegistry = Registry<std::shared_ptr<Backbone>>;
using NeckRegistry = Registry<std::shared_ptr<Neck>>;
using DenseHeadRegistry = Registry<std::shared_ptr<DenseHead>, const HeadConfigs&>;
using RoIHeadRegistry = Registry<std::shared_ptr<RoIHead>, const HeadConfigs&>;
using RoIExtractorRegistry = Registry<std::shared_ptr<RoIExtractor>>;
using BBoxHeadRegistry = Registry<std::shared_ptr<BBoxHead>>;
using MaskHeadRegistry = Registry<std::shared_ptr<MaskHead>>;
using DetectorRegistry = Registry<std::shared_ptr<Detector>>;
using BBoxCoderRegistry = Registry<std::shared_ptr<BBoxCoder>>;
using PriorGeneratorRegistry = Registry<std::shared_ptr<PriorGenerator>>;
using LossRegistry = Registry<std::shared_ptr<Loss>>;                  // loss_cls / loss_bbox / loss_mask
using BBoxAssignerRegistry = Registry<std::shared_ptr<BBoxAssigner>>;  // train_cfg.*.assigner
using BBoxSamplerRegistry = Registry<std::shared_ptr<BBoxSampler>>;    // train_cfg.*.sampler
using PluginRegistry = Registry<std::shared_ptr<PluginLayer>, int64_t>;  // block plugins; + in_channels

BackboneRegistry& backbone_registry();
NeckRegistry& neck_registry();
DenseHeadRegistry& dense_head_registry();
RoIHeadRegistry& roi_head_registry();
RoIExtractorRegistry& roi_extractor_registry();
BBoxHeadRegistry& bbox_head_registry();
MaskHeadRegistry& mask_head_registry();
DetectorRegistry& detector_registry();
BBoxCoderRegistry& bbox_coder_registry();
PriorGeneratorRegistry& prior_generator_registry();
LossRegistry& loss_registry();
BBoxAssignerRegistry& bbox_assigner_registry();
BBoxSamplerRegistry& bbox_sampler_registry();
PluginRegistry& plugin_registry();

// All registries together; register_builtin_models() fills a fresh one.
struct ModelRegistries {
  BackboneRegistry backbones{"backbone"};
  NeckRegistry necks{"neck"};
  DenseHeadRegistry dense_heads{"dense head"};
  RoIHeadRegistry roi_heads{"RoI head"};
  RoIExtractorRegistry roi_extractors{"RoI extractor"};
  BBoxHeadRegistry bbox_heads{"bbox head"};
  MaskHeadRegistry mask_heads{"mask head"};
  DetectorRegistry detectors{"detector"};
  BBoxCoderRegistry bbox_coders{"bbox coder"};
  PriorGeneratorRegistry prior_generators{"prior generator"};
  LossRegistry losses{"loss"};
  BBoxAssignerRegistry bbox_assigners{"bbox assigner"};
  BBoxSamplerRegistry bbox_samplers{"bbox sampler"};
  PluginRegistry plugins{"plugin layer"};
};

// Defined in register_builtin.cpp: every built-in component, in one list.
void register_builtin_models(ModelRegistries& registries);

}  // namespace cppdet::models
