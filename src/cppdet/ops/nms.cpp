#include "cppdet/ops/nms.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "cppdet/ops/cuda_kernels.h"

namespace cppdet::ops {
namespace {

// mmcv's CPU kernel: greedy suppression over the score order, IoU of float boxes with
// `offset` (0 or 1) added to extents. Same operation order as mmcv, so the same decisions.
template <typename T>
torch::Tensor nms_cpu_kernel(const torch::Tensor& boxes, const torch::Tensor& scores,
                             double iou_threshold, int64_t offset) {
  auto x1_t = boxes.select(1, 0).contiguous();
  auto y1_t = boxes.select(1, 1).contiguous();
  auto x2_t = boxes.select(1, 2).contiguous();
  auto y2_t = boxes.select(1, 3).contiguous();
  torch::Tensor areas_t = (x2_t - x1_t + offset) * (y2_t - y1_t + offset);
  torch::Tensor order_t = std::get<1>(scores.sort(0, /*descending=*/true));

  // Boxes and areas gathered into score order, so the O(n^2) sweep reads memory sequentially.
  const int64_t n = boxes.size(0);
  const torch::Tensor sorted_t = torch::stack({x1_t, y1_t, x2_t, y2_t, areas_t}).index_select(1, order_t).contiguous();
  torch::Tensor select_t = torch::ones({n}, boxes.options().dtype(torch::kBool));
  bool* select = select_t.data_ptr<bool>();
  const T* x1 = sorted_t.data_ptr<T>();
  const T* y1 = x1 + n;
  const T* x2 = y1 + n;
  const T* y2 = x2 + n;
  const T* areas = y2 + n;
  const T thr = static_cast<T>(iou_threshold);
  const T off = static_cast<T>(offset);

  for (int64_t i = 0; i < n; ++i) {
    if (!select[i]) continue;
    const T ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = areas[i];
    for (int64_t j = i + 1; j < n; ++j) {
      if (!select[j]) continue;
      const T xx1 = std::max(ix1, x1[j]);
      const T yy1 = std::max(iy1, y1[j]);
      const T xx2 = std::min(ix2, x2[j]);
      const T yy2 = std::min(iy2, y2[j]);
      const T w = std::max(T(0), xx2 - xx1 + off);
      const T h = std::max(T(0), yy2 - yy1 + off);
      const T inter = w * h;
      const T ovr = inter / (iarea + areas[j] - inter);
      if (ovr > thr) select[j] = false;
    }
  }
  return order_t.masked_select(select_t);
}

void check_nms_inputs(const torch::Tensor& boxes, const torch::Tensor& scores) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [N, 4], got ", boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [N], got ",
              scores.sizes(), " for ", boxes.size(0), " boxes");
  TORCH_CHECK(boxes.device() == scores.device(), "nms: boxes and scores on different devices");
}

}  // namespace

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                  int64_t offset) {
  check_nms_inputs(boxes, scores);
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  if (boxes.is_cuda()) {
#ifdef CPPDET_WITH_CUDA
    return cuda::nms(boxes, scores, iou_threshold, offset);
#else
    cuda::unavailable("nms");
#endif
  }
  torch::Tensor keep;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "nms_cpu", [&] {
    keep = nms_cpu_kernel<scalar_t>(boxes.contiguous(), scores.contiguous(), iou_threshold, offset);
  });
  return keep;
}

BatchedNmsResult batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores,
                             const torch::Tensor& idxs, double iou_threshold, bool class_agnostic,
                             int64_t split_thr, const std::optional<SoftNmsOptions>& soft) {
  const int64_t n = boxes.size(0);
  if (n == 0) {
    return {torch::cat({boxes, scores.unsqueeze(1)}, 1),
            torch::empty({0}, boxes.options().dtype(torch::kLong))};
  }
  torch::Tensor boxes_for_nms = boxes;
  if (!class_agnostic) {
    // offsets = idx * (max + 1), all in the boxes' dtype, as mmcv computes them.
    torch::Tensor max_coordinate = boxes.max();
    torch::Tensor offsets = idxs.to(boxes.scalar_type()) * (max_coordinate + torch::ones({}, boxes.options()));
    boxes_for_nms = boxes + offsets.unsqueeze(1);
  }
  // (kept indices in score order, their scores after suppression) of one NMS run.
  auto run = [&](const torch::Tensor& b, const torch::Tensor& s) -> std::pair<torch::Tensor, torch::Tensor> {
    if (soft) {
      SoftNmsResult r = soft_nms(b, s, *soft);
      return {r.keep, r.dets.select(1, 4)};
    }
    torch::Tensor k = nms(b, s, iou_threshold);
    return {k, s.index_select(0, k)};
  };
  torch::Tensor keep;
  torch::Tensor kept_scores;
  if (n < split_thr) {
    std::tie(keep, kept_scores) = run(boxes_for_nms, scores);
  } else {
    // One NMS per id (on the offset boxes, as mmcv does), merged and re-sorted by score.
    torch::Tensor total_mask = torch::zeros({n}, scores.options().dtype(torch::kBool));
    torch::Tensor scores_after_nms = torch::zeros_like(scores);
    for (const torch::Tensor& id : std::get<0>(at::_unique(idxs)).unbind(0)) {
      torch::Tensor mask = (idxs == id).nonzero().view(-1);
      auto [k, s] = run(boxes_for_nms.index_select(0, mask), scores.index_select(0, mask));
      const torch::Tensor kept = mask.index_select(0, k);
      total_mask.index_fill_(0, kept, true);
      scores_after_nms.index_copy_(0, kept, s);
    }
    keep = total_mask.nonzero().view(-1);
    auto [sorted_scores, order] = scores_after_nms.index_select(0, keep).sort(0, /*descending=*/true);
    keep = keep.index_select(0, order);
    kept_scores = sorted_scores;
  }
  return {torch::cat({boxes.index_select(0, keep), kept_scores.unsqueeze(1)}, 1), keep};
}

}  // namespace cppdet::ops
