#pragma once
// A sequence of transforms built from a config list (mmdet's Compose), e.g. the config's
// data.test.pipeline.
#include <memory>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

class Compose : public Transform {
 public:
  explicit Compose(std::vector<std::unique_ptr<Transform>> steps) : steps_(std::move(steps)) {}

  // Runs every step on every sample the previous steps produced.
  std::vector<Sample> operator()(Sample sample) override;
  size_t size() const { return steps_.size(); }

 private:
  std::vector<std::unique_ptr<Transform>> steps_;
};

// Builds each dict of `pipeline` (a list) with transform_registry(); `path` names the list in
// error messages ("data.test.pipeline" -> "data.test.pipeline[1].type: unknown transform ...").
std::unique_ptr<Compose> build_compose(const config::Value& pipeline, const std::string& path);

}  // namespace cppdet::data
