#include "cppdet/models/precision/inference_precision.h"

#include <ATen/Context.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "cppdet/core/error.h"

namespace cppdet::models {

void PreparedState::set(bool active, const InferencePrecision& precision, std::string path,
                        const torch::nn::Module& owner) {
  active_ = active;
  precision_ = precision;
  path_ = std::move(path);
  fingerprint_ = weights_fingerprint(owner);
}

bool PreparedState::applies(torch::nn::Module& owner, PrecisionAware& self, const torch::Tensor& x) {
  if (!active_ || owner.is_training() || !x.device().is_cpu() || c10::GradMode::is_enabled()) return false;
  if (fingerprint_ != weights_fingerprint(owner)) {
    const InferencePrecision precision = precision_;
    const std::string path = path_;
    self.set_inference_precision(precision, path);  // weights changed: copy them again
  }
  return active_;
}

int64_t weights_fingerprint(const torch::nn::Module& module) {
  int64_t fingerprint = 0;
  for (const std::vector<torch::Tensor>& tensors : {module.parameters(), module.buffers()})
    for (const torch::Tensor& t : tensors)
      fingerprint += static_cast<int64_t>(t._version()) + static_cast<int64_t>(reinterpret_cast<intptr_t>(t.data_ptr()));
  return fingerprint;
}

std::string child_path(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

int64_t set_inference_precision(torch::nn::Module& model, const InferencePrecision& precision) {
  if (precision.mode == PrecisionMode::kInt8) {
    const auto& engines = at::globalContext().supportedQEngines();
    if (std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) == engines.end())
      throw UserError("int8 inference needs LibTorch's oneDNN quantized engine, which this LibTorch build lacks");
    at::globalContext().setQEngine(at::QEngine::ONEDNN);
  }
  int64_t prepared = 0;
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/true))
    if (auto* m = dynamic_cast<PrecisionAware*>(item.value().get()))
      prepared += m->set_inference_precision(precision, item.key()) ? 1 : 0;
  return prepared;
}

int64_t set_mkldnn_inference(torch::nn::Module& model, bool on) {
  InferencePrecision fp32;
  fp32.mkldnn = on;
  return set_inference_precision(model, fp32);
}

}  // namespace cppdet::models
