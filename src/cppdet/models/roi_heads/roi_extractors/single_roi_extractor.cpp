#include "cppdet/models/roi_heads/roi_extractors/single_roi_extractor.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/ops/roi_align.h"

namespace cppdet::models {

RoIAlignConfig RoIAlignConfig::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  RoIAlignConfig c;
  const std::string type = r.get_string("type");
  if (type != "RoIAlign") throw ConfigError(r.path_of("type") + ": unsupported RoI layer '" + type + "'; known: RoIAlign");
  const std::vector<int64_t> size = r.get_int_or_ints("output_size", 2);
  c.out_h = size[0];
  c.out_w = size[1];
  c.sampling_ratio = r.get_int("sampling_ratio", 0);
  c.aligned = r.get_bool("aligned", true);
  const std::string pool_mode = r.get_string("pool_mode", "avg");
  if (pool_mode != "avg") throw ConfigError(r.path_of("pool_mode") + ": only 'avg' is supported, got '" + pool_mode + "'");
  r.get_bool("use_torchvision", false);  // same numbers either way
  r.finish();
  return c;
}

SingleRoIExtractorOptions SingleRoIExtractorOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  SingleRoIExtractorOptions o;
  o.roi_layer = RoIAlignConfig::from_config(r.get("roi_layer"), r.path_of("roi_layer"));
  o.out_channels = r.get_int("out_channels");
  o.featmap_strides = r.get_ints("featmap_strides");
  if (o.featmap_strides.empty()) throw ConfigError(r.path_of("featmap_strides") + ": must not be empty");
  o.finest_scale = r.get_number("finest_scale", 56);
  r.ignore({"init_cfg"});
  r.finish();
  return o;
}

SingleRoIExtractor::SingleRoIExtractor(SingleRoIExtractorOptions options) : options_(std::move(options)) {}

torch::Tensor SingleRoIExtractor::map_roi_levels(const torch::Tensor& rois, int64_t num_levels) const {
  const torch::Tensor scale =
      torch::sqrt((rois.select(1, 3) - rois.select(1, 1)) * (rois.select(1, 4) - rois.select(1, 2)));
  const torch::Tensor lvls = torch::floor(torch::log2(scale / options_.finest_scale + 1e-6));
  return lvls.clamp(0, num_levels - 1).to(torch::kLong);
}

torch::Tensor SingleRoIExtractor::forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois) {
  const int64_t num_levels = num_inputs();
  TORCH_CHECK(static_cast<int64_t>(feats.size()) >= num_levels, "SingleRoIExtractor: needs ", num_levels,
              " feature maps, got ", feats.size());
  const auto& rl = options_.roi_layer;
  auto pool = [&](int64_t level, const torch::Tensor& r) {
    return ops::roi_align(feats[level], r, rl.out_h, rl.out_w, 1.0 / static_cast<double>(options_.featmap_strides[level]),
                          rl.sampling_ratio, rl.aligned);
  };
  if (num_levels == 1) return pool(0, rois);
  torch::Tensor roi_feats = torch::zeros({rois.size(0), options_.out_channels, rl.out_h, rl.out_w}, feats[0].options());
  const torch::Tensor levels = map_roi_levels(rois, num_levels);
  for (int64_t i = 0; i < num_levels; ++i) {
    const torch::Tensor inds = (levels == i).nonzero().squeeze(1);
    if (inds.numel() == 0) continue;
    roi_feats.index_copy_(0, inds, pool(i, rois.index_select(0, inds)));
  }
  return roi_feats;
}

}  // namespace cppdet::models
