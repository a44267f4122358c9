#include "train_common.h"

#include <torch/torch.h>

#include "cppdet/core/error.h"
#include "cppdet/models/init/init_weights.h"

namespace cppdet::tools {

std::shared_ptr<models::Detector> build_model_for_training(const config::Value& cfg, int64_t seed,
                                                           const std::string& device) {
  if (!cfg.is_dict() || !cfg.as_dict().contains("model")) throw ConfigError("config: no `model` dict");
  torch::manual_seed(static_cast<uint64_t>(seed));
  std::shared_ptr<models::Detector> model = models::build_detector(cfg.as_dict().at("model"));
  models::init_weights(*model, cfg.as_dict().at("model"));
  model->to(torch::Device(device));
  model->train();
  return model;
}

DetBatch batch_to_device(const DetBatch& batch, const torch::Device& device) {
  if (batch.img.device() == device) return batch;
  DetBatch out;
  out.img = batch.img.to(device);
  out.metas = batch.metas;
  for (const GtInstances& gt : batch.gts) {
    GtInstances g;
    auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
    g.bboxes = move(gt.bboxes);
    g.labels = move(gt.labels);
    g.bboxes_ignore = move(gt.bboxes_ignore);
    g.masks = move(gt.masks);
    out.gts.push_back(std::move(g));
  }
  return out;
}

const config::Value& data_split(const config::Value& cfg, const std::string& split) {
  const config::Value* data = cfg.is_dict() ? cfg.as_dict().find("data") : nullptr;
  if (!data || !data->is_dict()) throw ConfigError("config: no `data` dict");
  const config::Value* node = data->as_dict().find(split);
  if (!node) throw ConfigError("config: no `data." + split + "`");
  return *node;
}

}  // namespace cppdet::tools
