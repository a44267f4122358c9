#include "cppdet/models/roi_heads/bbox_heads/bbox_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

LossTerms BBoxHead::loss(const BBoxHeadOutputs&, const torch::Tensor&, const std::vector<SamplingResult>&, double) {
  throw UserError("this bbox head has no training losses in cppdet");
}

}  // namespace cppdet::models
