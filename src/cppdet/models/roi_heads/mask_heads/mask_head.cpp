#include "cppdet/models/roi_heads/mask_heads/mask_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

LossTerms MaskHead::loss(const torch::Tensor&, const std::vector<SamplingResult>&, const std::vector<torch::Tensor>&,
                         std::pair<int64_t, int64_t>) {
  throw UserError("this mask head has no training losses in cppdet");
}

}  // namespace cppdet::models
