#include "cppdet/models/detector.h"
#include "cppdet/models/registries.h"

namespace cppdet::models {

std::shared_ptr<Detector> build_detector(const config::Value& model_cfg, const std::string& path) {
  std::shared_ptr<Detector> model = detector_registry().build(model_cfg, path);
  model->eval();
  return model;
}

}  // namespace cppdet::models
