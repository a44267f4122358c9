#include "cppdet/models/dense_heads/dense_head.h"

#include "cppdet/core/error.h"

namespace cppdet::models {

LossTerms DenseHead::loss(const DenseHeadOutputs&, const std::vector<ImageMeta>&, const std::vector<GtInstances>&,
                          DebugTrace*) {
  throw UserError("this dense head has no training losses in cppdet");
}

}  // namespace cppdet::models
