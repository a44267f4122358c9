#include "cppdet/ops/soft_nms.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "cppdet/core/error.h"

namespace cppdet::ops {
namespace {

// mmcv's softnms_cpu: the remaining boxes live in [i, n); the best one is swapped to i, the rest
// decayed, and a box below min_score is replaced by the last one (n shrinks). Same types and
// operation order as mmcv, so the same decisions and scores.
template <typename T>
SoftNmsResult soft_nms_kernel(const torch::Tensor& boxes, const torch::Tensor& scores, const SoftNmsOptions& o) {
  const int64_t total = boxes.size(0);
  torch::Tensor x1_t = boxes.select(1, 0).contiguous().clone(), y1_t = boxes.select(1, 1).contiguous().clone();
  torch::Tensor x2_t = boxes.select(1, 2).contiguous().clone(), y2_t = boxes.select(1, 3).contiguous().clone();
  torch::Tensor sc_t = scores.contiguous().clone();
  torch::Tensor areas_t = (x2_t - x1_t + o.offset) * (y2_t - y1_t + o.offset);
  torch::Tensor inds_t = torch::arange(total, boxes.options().dtype(torch::kLong));
  torch::Tensor dets_t = torch::empty({total, 5}, boxes.options());
  T* x1 = x1_t.data_ptr<T>();
  T* y1 = y1_t.data_ptr<T>();
  T* x2 = x2_t.data_ptr<T>();
  T* y2 = y2_t.data_ptr<T>();
  T* sc = sc_t.data_ptr<T>();
  T* areas = areas_t.data_ptr<T>();
  int64_t* inds = inds_t.data_ptr<int64_t>();
  T* dets = dets_t.data_ptr<T>();
  const T iou_threshold = static_cast<T>(o.iou_threshold), sigma = static_cast<T>(o.sigma);
  const T min_score = static_cast<T>(o.min_score), offset = static_cast<T>(o.offset);

  int64_t n = total;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = i;
    for (int64_t pos = i + 1; pos < n; ++pos)
      if (sc[best] < sc[pos]) best = pos;
    std::swap(x1[i], x1[best]);
    std::swap(y1[i], y1[best]);
    std::swap(x2[i], x2[best]);
    std::swap(y2[i], y2[best]);
    std::swap(sc[i], sc[best]);
    std::swap(areas[i], areas[best]);
    std::swap(inds[i], inds[best]);
    const T ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = areas[i];
    T* det = dets + i * 5;
    det[0] = ix1;
    det[1] = iy1;
    det[2] = ix2;
    det[3] = iy2;
    det[4] = sc[i];

    for (int64_t pos = i + 1; pos < n; ++pos) {
      const T xx1 = std::max(ix1, x1[pos]), yy1 = std::max(iy1, y1[pos]);
      const T xx2 = std::min(ix2, x2[pos]), yy2 = std::min(iy2, y2[pos]);
      const T w = std::max(T(0), xx2 - xx1 + offset), h = std::max(T(0), yy2 - yy1 + offset);
      const T inter = w * h;
      const T ovr = inter / (iarea + areas[pos] - inter);
      T weight = 1;
      switch (o.method) {
        case SoftNmsMethod::kNaive:
          if (ovr >= iou_threshold) weight = 0;
          break;
        case SoftNmsMethod::kLinear:
          if (ovr >= iou_threshold) weight = 1 - ovr;
          break;
        case SoftNmsMethod::kGaussian:
          weight = std::exp(-(ovr * ovr) / sigma);
          break;
      }
      sc[pos] *= weight;
      if (sc[pos] < min_score) {  // drop: the last remaining box takes its place
        --n;
        x1[pos] = x1[n];
        y1[pos] = y1[n];
        x2[pos] = x2[n];
        y2[pos] = y2[n];
        sc[pos] = sc[n];
        areas[pos] = areas[n];
        inds[pos] = inds[n];
        --pos;
      }
    }
  }
  return {dets_t.slice(0, 0, n), inds_t.slice(0, 0, n)};
}

}  // namespace

SoftNmsMethod soft_nms_method(const std::string& name) {
  if (name == "naive") return SoftNmsMethod::kNaive;
  if (name == "linear") return SoftNmsMethod::kLinear;
  if (name == "gaussian") return SoftNmsMethod::kGaussian;
  throw UserError("soft_nms: unknown method '" + name + "'; known: naive, linear, gaussian");
}

SoftNmsResult soft_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const SoftNmsOptions& options) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "soft_nms: boxes must be [N, 4], got ", boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "soft_nms: scores must be [N], got ",
              scores.sizes(), " for ", boxes.size(0), " boxes");
  TORCH_CHECK(boxes.scalar_type() == scores.scalar_type(), "soft_nms: boxes and scores dtypes differ");
  TORCH_CHECK(options.offset == 0 || options.offset == 1, "soft_nms: offset must be 0 or 1");
  const torch::Tensor b = boxes.cpu(), s = scores.cpu();
  SoftNmsResult r;
  AT_DISPATCH_FLOATING_TYPES(b.scalar_type(), "soft_nms_cpu", [&] { r = soft_nms_kernel<scalar_t>(b, s, options); });
  return {r.dets.to(boxes.device()), r.keep.to(boxes.device())};
}

}  // namespace cppdet::ops
