#include "cppdet/models/mkldnn_inference.h"

#include "cppdet/models/backbones/backbone.h"

namespace cppdet::models {

int64_t set_mkldnn_inference(torch::nn::Module& model, bool on) {
  int64_t enabled = 0;
  for (const auto& m : model.modules(/*include_self=*/true))
    if (auto* backbone = dynamic_cast<Backbone*>(m.get())) enabled += backbone->set_mkldnn_inference(on) ? 1 : 0;
  return enabled;
}

}  // namespace cppdet::models
