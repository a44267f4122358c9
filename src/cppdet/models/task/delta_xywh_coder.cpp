#include "cppdet/models/task/delta_xywh_coder.h"

#include <cmath>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::models {

using torch::indexing::Ellipsis;
using torch::indexing::None;
using torch::indexing::Slice;

DeltaXYWHCoderOptions DeltaXYWHCoderOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  DeltaXYWHCoderOptions o;
  o.target_means = r.get_numbers("target_means", o.target_means);
  o.target_stds = r.get_numbers("target_stds", o.target_stds);
  o.clip_border = r.get_bool("clip_border", true);
  o.add_ctr_clamp = r.get_bool("add_ctr_clamp", false);
  o.ctr_clamp = r.get_number("ctr_clamp", 32);
  r.finish();
  if (o.target_means.size() != 4) throw ConfigError(r.path_of("target_means") + ": expected 4 numbers");
  if (o.target_stds.size() != 4) throw ConfigError(r.path_of("target_stds") + ": expected 4 numbers");
  return o;
}

DeltaXYWHBBoxCoder::DeltaXYWHBBoxCoder(DeltaXYWHCoderOptions options) : options_(std::move(options)) {}

torch::Tensor DeltaXYWHBBoxCoder::encode(const torch::Tensor& bboxes, const torch::Tensor& gt_bboxes) const {
  TORCH_CHECK(bboxes.sizes() == gt_bboxes.sizes(), "DeltaXYWHBBoxCoder.encode: shape mismatch ",
              bboxes.sizes(), " vs ", gt_bboxes.sizes());
  const torch::Tensor p = bboxes.to(torch::kFloat32);
  const torch::Tensor g = gt_bboxes.to(torch::kFloat32);
  auto c = [](const torch::Tensor& t, int64_t k) { return t.index({Ellipsis, k}); };
  const torch::Tensor px = (c(p, 0) + c(p, 2)) * 0.5, py = (c(p, 1) + c(p, 3)) * 0.5;
  const torch::Tensor pw = c(p, 2) - c(p, 0), ph = c(p, 3) - c(p, 1);
  const torch::Tensor gx = (c(g, 0) + c(g, 2)) * 0.5, gy = (c(g, 1) + c(g, 3)) * 0.5;
  const torch::Tensor gw = c(g, 2) - c(g, 0), gh = c(g, 3) - c(g, 1);
  torch::Tensor deltas = torch::stack({(gx - px) / pw, (gy - py) / ph, torch::log(gw / pw), torch::log(gh / ph)}, -1);
  const torch::Tensor means = torch::tensor(options_.target_means, deltas.options().dtype(torch::kFloat64)).to(deltas.dtype()).unsqueeze(0);
  const torch::Tensor stds = torch::tensor(options_.target_stds, deltas.options().dtype(torch::kFloat64)).to(deltas.dtype()).unsqueeze(0);
  return deltas.sub_(means).div_(stds);
}

torch::Tensor DeltaXYWHBBoxCoder::decode(const torch::Tensor& rois, const torch::Tensor& deltas_in,
                                         std::optional<ImageSize> max_shape) const {
  TORCH_CHECK(rois.size(0) == deltas_in.size(0), "DeltaXYWHBBoxCoder.decode: ", rois.size(0), " boxes but ",
              deltas_in.size(0), " deltas");
  const int64_t num_bboxes = deltas_in.size(0);
  const int64_t num_classes = deltas_in.size(1) / 4;
  if (num_bboxes == 0) return deltas_in;
  const torch::Tensor deltas = deltas_in.reshape({-1, 4});
  auto vec = [&](const std::vector<double>& v) {
    return torch::tensor(v, torch::TensorOptions().dtype(torch::kFloat64)).to(deltas.options()).view({1, -1});
  };
  const torch::Tensor denorm = deltas * vec(options_.target_stds) + vec(options_.target_means);
  const torch::Tensor dxy = denorm.index({Slice(), Slice(None, 2)});
  torch::Tensor dwh = denorm.index({Slice(), Slice(2, None)});
  const torch::Tensor rois_ = rois.repeat({1, num_classes}).reshape({-1, 4});
  const torch::Tensor pxy = (rois_.index({Slice(), Slice(None, 2)}) + rois_.index({Slice(), Slice(2, None)})) * 0.5;
  const torch::Tensor pwh = rois_.index({Slice(), Slice(2, None)}) - rois_.index({Slice(), Slice(None, 2)});
  torch::Tensor dxy_wh = pwh * dxy;
  const double max_ratio = std::abs(std::log(options_.wh_ratio_clip));
  if (options_.add_ctr_clamp) {
    dxy_wh = torch::clamp(dxy_wh, -options_.ctr_clamp, options_.ctr_clamp);
    dwh = torch::clamp_max(dwh, max_ratio);
  } else {
    dwh = dwh.clamp(-max_ratio, max_ratio);
  }
  const torch::Tensor gxy = pxy + dxy_wh;
  const torch::Tensor gwh = pwh * dwh.exp();
  torch::Tensor bboxes = torch::cat({gxy - gwh * 0.5, gxy + gwh * 0.5}, -1);
  if (options_.clip_border && max_shape) {
    bboxes.index({Ellipsis, Slice(0, None, 2)}).clamp_(0, static_cast<double>(max_shape->second));
    bboxes.index({Ellipsis, Slice(1, None, 2)}).clamp_(0, static_cast<double>(max_shape->first));
  }
  return bboxes.reshape({num_bboxes, -1});
}

}  // namespace cppdet::models
