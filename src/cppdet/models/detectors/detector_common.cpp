#include "cppdet/models/detectors/detector_common.h"

#include "cppdet/core/error.h"
#include "cppdet/models/precision/activation.h"

namespace cppdet::models {

int64_t config_num_classes(const config::Value& cfg, const std::string& head_key) {
  const config::Value* node = cfg.as_dict().find(head_key);
  if (node && node->is_dict() && head_key == "roi_head") {
    node = node->as_dict().find("bbox_head");
    // Cascade heads: a list of per-stage heads; the results use the last one's classes.
    if (node && node->is_sequence() && !node->as_sequence().empty()) node = &node->as_sequence().back();
  }
  if (node && node->is_dict())
    if (const config::Value* n = node->as_dict().find("num_classes"); n && n->is_int()) return n->as_int();
  return 80;  // mmdet's default num_classes
}

std::vector<torch::Tensor> run_backbone_and_neck(Backbone& backbone, Neck* neck, const torch::Tensor& img,
                                                 DebugTrace* trace) {
  std::vector<torch::Tensor> x = backbone.forward(img);
  if (trace)
    for (size_t i = 0; i < x.size(); ++i) trace->record("backbone." + std::to_string(i), to_float(x[i]));
  if (neck) {
    x = neck->forward(x);
    if (trace)
      for (size_t i = 0; i < x.size(); ++i) trace->record("neck." + std::to_string(i), to_float(x[i]));
  }
  return x;
}

void check_batch(const torch::Tensor& img, const std::vector<ImageMeta>& metas) {
  if (img.dim() != 4 || img.size(1) != 3)
    throw UserError("detector input must be [N, 3, H, W], got " + c10::str(img.sizes()));
  if (static_cast<int64_t>(metas.size()) != img.size(0))
    throw UserError("detector input has " + std::to_string(img.size(0)) + " images but " +
                    std::to_string(metas.size()) + " image metas");
}

std::vector<GtInstances> gts_on_device(const DetBatch& batch, torch::Device device) {
  check_batch(batch.img, batch.metas);
  if (batch.gts.size() != batch.metas.size())
    throw UserError("training batch has " + std::to_string(batch.metas.size()) + " images but " +
                    std::to_string(batch.gts.size()) + " ground truths");
  std::vector<GtInstances> gts;
  for (size_t i = 0; i < batch.gts.size(); ++i) {
    const GtInstances& g = batch.gts[i];
    if (!g.bboxes.defined() || !g.labels.defined() || g.bboxes.dim() != 2 || g.bboxes.size(1) != 4 ||
        g.labels.numel() != g.bboxes.size(0))
      throw UserError("image " + batch.metas[i].filename + ": ground truth needs bboxes [K, 4] and labels [K]");
    GtInstances d;
    d.bboxes = g.bboxes.to(device, torch::kFloat32);
    d.labels = g.labels.to(device, torch::kLong);
    if (g.bboxes_ignore.defined()) d.bboxes_ignore = g.bboxes_ignore.to(device, torch::kFloat32);
    if (g.masks.defined()) d.masks = g.masks.to(device);
    gts.push_back(d);
  }
  return gts;
}

HeadConfigs head_configs(const config::Value* train_cfg, const config::Value* test_cfg, const std::string& path,
                         const char* key) {
  HeadConfigs h;
  auto pick = [&](const config::Value* root, const std::string& root_path, config::Value& out, std::string& out_path) {
    if (!root || root->is_none()) return;
    if (!key) {
      out = *root;
      out_path = root_path;
      return;
    }
    if (!root->is_dict()) throw ConfigError(root_path + ": expected a dict, got " + root->type_name());
    if (const config::Value* v = root->as_dict().find(key)) out = *v;
    out_path = root_path + "." + key;
  };
  pick(train_cfg, path + ".train_cfg", h.train_cfg, h.train_cfg_path);
  pick(test_cfg, path + ".test_cfg", h.test_cfg, h.test_cfg_path);
  return h;
}

}  // namespace cppdet::models
