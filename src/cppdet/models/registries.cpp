#include "cppdet/models/registries.h"

namespace cppdet::models {
namespace {

ModelRegistries& all() {
  static ModelRegistries* registries = [] {
    auto* r = new ModelRegistries();
    register_builtin_models(*r);
    return r;
  }();
  return *registries;
}

}  // namespace

BackboneRegistry& backbone_registry() { return all().backbones; }
NeckRegistry& neck_registry() { return all().necks; }
DenseHeadRegistry& dense_head_registry() { return all().dense_heads; }
RoIHeadRegistry& roi_head_registry() { return all().roi_heads; }
RoIExtractorRegistry& roi_extractor_registry() { return all().roi_extractors; }
BBoxHeadRegistry& bbox_head_registry() { return all().bbox_heads; }
MaskHeadRegistry& mask_head_registry() { return all().mask_heads; }
DetectorRegistry& detector_registry() { return all().detectors; }
BBoxCoderRegistry& bbox_coder_registry() { return all().bbox_coders; }
PriorGeneratorRegistry& prior_generator_registry() { return all().prior_generators; }
LossRegistry& loss_registry() { return all().losses; }
BBoxAssignerRegistry& bbox_assigner_registry() { return all().bbox_assigners; }
BBoxSamplerRegistry& bbox_sampler_registry() { return all().bbox_samplers; }
PluginRegistry& plugin_registry() { return all().plugins; }

}  // namespace cppdet::models
