#include "cppdet/models/task/prior_generator.h"

#include <cmath>

#include "cppdet/core/error.h"

namespace cppdet::models {

std::vector<std::pair<double, double>> read_number_pairs(const config::Value& v, const std::string& path) {
  if (!v.is_sequence()) throw ConfigError(path + ": expected a list, got " + v.type_name() + " " + v.brief());
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < v.as_sequence().size(); ++i) {
    const config::Value& e = v.as_sequence()[i];
    if (e.is_number()) {
      out.emplace_back(e.as_number(), e.as_number());
    } else if (e.is_sequence() && e.as_sequence().size() == 2 && e.as_sequence()[0].is_number() &&
               e.as_sequence()[1].is_number()) {
      out.emplace_back(e.as_sequence()[0].as_number(), e.as_sequence()[1].as_number());
    } else {
      throw ConfigError(path + "[" + std::to_string(i) + "]: expected a number or a pair of numbers, got " + e.brief());
    }
  }
  return out;
}

std::pair<torch::Tensor, torch::Tensor> prior_meshgrid(const torch::Tensor& x, const torch::Tensor& y) {
  torch::Tensor xx = x.repeat({y.size(0)});
  torch::Tensor yy = y.view({-1, 1}).repeat({1, x.size(0)}).view({-1});
  return {xx, yy};
}

torch::Tensor grid_valid_flags(FeatSize featmap_size, std::pair<double, double> stride_wh, FeatSize pad_shape,
                               int64_t num_base_priors, torch::Device device) {
  const auto [feat_h, feat_w] = featmap_size;
  const auto [stride_w, stride_h] = stride_wh;
  const int64_t valid_h = std::min(static_cast<int64_t>(std::ceil(pad_shape.first / stride_h)), feat_h);
  const int64_t valid_w = std::min(static_cast<int64_t>(std::ceil(pad_shape.second / stride_w)), feat_w);
  auto opts = torch::TensorOptions().dtype(torch::kBool).device(device);
  torch::Tensor valid_x = torch::zeros({feat_w}, opts);
  torch::Tensor valid_y = torch::zeros({feat_h}, opts);
  valid_x.narrow(0, 0, valid_w).fill_(true);
  valid_y.narrow(0, 0, valid_h).fill_(true);
  const auto [vx, vy] = prior_meshgrid(valid_x, valid_y);
  const torch::Tensor valid = vx & vy;
  return valid.unsqueeze(1).expand({valid.size(0), num_base_priors}).contiguous().view({-1});
}

}  // namespace cppdet::models
