#include "cppdet/models/task/point_generator.h"

#include "cppdet/config/reader.h"

namespace cppdet::models {

PointGeneratorOptions PointGeneratorOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  PointGeneratorOptions o;
  o.strides = read_number_pairs(r.get("strides"), r.path_of("strides"));
  o.offset = r.get_number("offset", 0.5);
  r.finish();
  return o;
}

std::vector<torch::Tensor> MlvlPointGenerator::grid_priors(const std::vector<FeatSize>& featmap_sizes,
                                                           torch::Dtype dtype, torch::Device device) const {
  TORCH_CHECK(static_cast<int64_t>(featmap_sizes.size()) == num_levels(), "MlvlPointGenerator: got ",
              featmap_sizes.size(), " feature maps for ", num_levels(), " levels");
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < featmap_sizes.size(); ++i) {
    const auto [feat_h, feat_w] = featmap_sizes[i];
    const auto [stride_w, stride_h] = options_.strides[i];
    // (arange + offset) * stride in the default float dtype, then cast, as mmdet.
    const torch::Tensor shift_x = ((torch::arange(feat_w, long_opts) + options_.offset) * stride_w).to(dtype);
    const torch::Tensor shift_y = ((torch::arange(feat_h, long_opts) + options_.offset) * stride_h).to(dtype);
    const auto [xx, yy] = prior_meshgrid(shift_x, shift_y);
    out.push_back(torch::stack({xx, yy}, -1));
  }
  return out;
}

std::vector<torch::Tensor> MlvlPointGenerator::valid_flags(const std::vector<FeatSize>& featmap_sizes,
                                                           FeatSize pad_shape, torch::Device device) const {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < featmap_sizes.size(); ++i)
    out.push_back(grid_valid_flags(featmap_sizes[i], options_.strides[i], pad_shape, 1, device));
  return out;
}

}  // namespace cppdet::models
