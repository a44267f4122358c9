#include "cppdet/models/roi_heads/roi_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

LossTerms RoIHead::forward_train(const std::vector<torch::Tensor>&, const std::vector<torch::Tensor>&,
                                 const std::vector<ImageMeta>&, const std::vector<GtInstances>&, DebugTrace*) {
  throw UserError("this RoI head cannot be trained by cppdet");
}

}  // namespace cppdet::models
