#include "cppdet/models/roi_heads/bbox_heads/bbox_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

LossTerms BBoxHead::loss(const BBoxHeadOutputs&, const torch::Tensor&, const std::vector<SamplingResult>&, double) {
  throw UserError("this bbox head has no training losses in cppdet");
}

torch::Tensor BBoxHead::regress_by_class(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                         std::pair<int64_t, int64_t>) const {
  throw UserError("this bbox head cannot refine boxes between cascade stages");
}

}  // namespace cppdet::models
