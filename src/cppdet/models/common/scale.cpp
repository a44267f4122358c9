#include "cppdet/models/common/scale.h"

namespace cppdet::models {

ScaleImpl::ScaleImpl(double value) {
  scale = register_parameter("scale", torch::tensor(static_cast<float>(value), torch::kFloat32));
}

}  // namespace cppdet::models
