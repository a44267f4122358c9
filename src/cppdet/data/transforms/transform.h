#pragma once
// A pipeline step (mmdet's PIPELINES entries). Most steps change one sample in place
// (SampleTransform); a step may also drop a sample (training filters) or expand it into
// several (MultiScaleFlipAug), so the general interface maps one sample to a list.
#include <memory>
#include <vector>

#include "cppdet/data/transforms/sample.h"
#include "cppdet/registry/registry.h"

namespace cppdet::data {

class Transform {
 public:
  virtual ~Transform() = default;
  // The samples this step produces from `sample`: empty to drop it, several for
  // test-time augmentation.
  virtual std::vector<Sample> operator()(Sample sample) = 0;
};

// A step that maps each sample to exactly one sample.
class SampleTransform : public Transform {
 public:
  std::vector<Sample> operator()(Sample sample) final {
    apply(sample);
    std::vector<Sample> out;
    out.push_back(std::move(sample));
    return out;
  }
  virtual void apply(Sample& sample) = 0;
};

using TransformRegistry = Registry<std::unique_ptr<Transform>>;

// The transform table (type name -> builder from a config dict), filled with the built-in
// transforms in register_builtin_transforms.cpp. Register custom transforms here too.
TransformRegistry& transform_registry();

}  // namespace cppdet::data
