#include "cppdet/data/transforms/multi_scale_flip_aug.h"

#include "cppdet/core/error.h"

namespace cppdet::data {

MultiScaleFlipAug::MultiScaleFlipAug(Options options, std::unique_ptr<Compose> transforms)
    : options_(std::move(options)), transforms_(std::move(transforms)) {
  if (options_.img_scale.empty() == options_.scale_factor.empty())
    throw ConfigError("MultiScaleFlipAug: set exactly one of img_scale and scale_factor");
}

std::vector<Sample> MultiScaleFlipAug::operator()(Sample sample) {
  std::vector<std::pair<bool, std::string>> flips{{false, ""}};
  if (options_.flip)
    for (const std::string& d : options_.flip_direction) flips.emplace_back(true, d);
  const size_t num_scales = options_.img_scale.empty() ? options_.scale_factor.size() : options_.img_scale.size();
  std::vector<Sample> out;
  for (size_t s = 0; s < num_scales; ++s) {
    for (const auto& [flip, direction] : flips) {
      Sample copy = sample;  // cv::Mat shares pixels; every transform writes a new image
      if (options_.img_scale.empty()) {
        copy.scale_factor_request = options_.scale_factor[s];
      } else {
        copy.scale = options_.img_scale[s];
      }
      copy.meta.flip = flip;
      copy.meta.flip_direction = direction;
      copy.flip_decided = true;
      for (Sample& produced : (*transforms_)(std::move(copy))) out.push_back(std::move(produced));
    }
  }
  return out;
}

}  // namespace cppdet::data
