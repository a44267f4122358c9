#pragma once
// mmdet 2.x SingleRoIExtractor: each RoI is pooled from one level chosen by its scale
// sqrt(w*h): floor(log2(scale / finest_scale + 1e-6)) clamped to [0, L-1]; the RoI layer is
// mmcv RoIAlign (avg, aligned, adaptive sampling by default) with spatial_scale 1/stride.
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/roi_heads/roi_extractors/roi_extractor.h"

namespace cppdet::models {

struct RoIAlignConfig {
  int64_t out_h = 7, out_w = 7;
  int64_t sampling_ratio = 0;
  bool aligned = true;

  // dict(type='RoIAlign', output_size=7 | (7, 7), sampling_ratio=0, aligned=True,
  // pool_mode='avg', use_torchvision=False).
  static RoIAlignConfig from_config(const config::Value& cfg, const std::string& path);
};

struct SingleRoIExtractorOptions {
  RoIAlignConfig roi_layer;
  int64_t out_channels = 256;
  std::vector<int64_t> featmap_strides;
  double finest_scale = 56;

  static SingleRoIExtractorOptions from_config(const config::Value& cfg, const std::string& path);
};

class SingleRoIExtractor : public RoIExtractor {
 public:
  explicit SingleRoIExtractor(SingleRoIExtractorOptions options);
  torch::Tensor forward(const std::vector<torch::Tensor>& feats, const torch::Tensor& rois) override;
  int64_t num_inputs() const override { return static_cast<int64_t>(options_.featmap_strides.size()); }
  // Level index [K] int64 of each RoI.
  torch::Tensor map_roi_levels(const torch::Tensor& rois, int64_t num_levels) const;
  const SingleRoIExtractorOptions& options() const { return options_; }

 private:
  SingleRoIExtractorOptions options_;
};

}  // namespace cppdet::models
