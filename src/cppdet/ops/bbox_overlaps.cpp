#include "cppdet/ops/bbox_overlaps.h"

#include <stdexcept>

namespace cppdet::ops {

using torch::indexing::Ellipsis;
using torch::indexing::None;
using torch::indexing::Slice;

OverlapMode overlap_mode_from_string(const std::string& mode) {
  if (mode == "iou") return OverlapMode::kIoU;
  if (mode == "iof") return OverlapMode::kIoF;
  if (mode == "giou") return OverlapMode::kGIoU;
  throw std::invalid_argument("bbox overlap mode must be 'iou', 'iof' or 'giou', got '" + mode + "'");
}

torch::Tensor bbox_overlaps(const torch::Tensor& bboxes1, const torch::Tensor& bboxes2,
                            OverlapMode mode, bool aligned, double eps) {
  TORCH_CHECK(bboxes1.size(-1) == 4 || bboxes1.size(-2) == 0, "bbox_overlaps: bboxes1 must be [..., M, 4]");
  TORCH_CHECK(bboxes2.size(-1) == 4 || bboxes2.size(-2) == 0, "bbox_overlaps: bboxes2 must be [..., N, 4]");
  const int64_t rows = bboxes1.size(-2);
  const int64_t cols = bboxes2.size(-2);
  TORCH_CHECK(!aligned || rows == cols, "bbox_overlaps: aligned needs equal counts, got ", rows, " and ", cols);
  std::vector<int64_t> out_shape(bboxes1.sizes().begin(), bboxes1.sizes().end() - 2);
  out_shape.push_back(rows);
  if (!aligned) out_shape.push_back(cols);
  if (rows * cols == 0) return torch::empty(out_shape, bboxes1.options());

  auto col = [](const torch::Tensor& b, int64_t k) { return b.index({Ellipsis, k}); };
  torch::Tensor area1 = (col(bboxes1, 2) - col(bboxes1, 0)) * (col(bboxes1, 3) - col(bboxes1, 1));
  torch::Tensor area2 = (col(bboxes2, 2) - col(bboxes2, 0)) * (col(bboxes2, 3) - col(bboxes2, 1));
  torch::Tensor b1_lt = bboxes1.index({Ellipsis, Slice(None, 2)});
  torch::Tensor b1_rb = bboxes1.index({Ellipsis, Slice(2, None)});
  torch::Tensor b2_lt = bboxes2.index({Ellipsis, Slice(None, 2)});
  torch::Tensor b2_rb = bboxes2.index({Ellipsis, Slice(2, None)});
  if (!aligned) {
    b1_lt = b1_lt.unsqueeze(-2);  // [..., M, 1, 2]
    b1_rb = b1_rb.unsqueeze(-2);
    b2_lt = b2_lt.unsqueeze(-3);  // [..., 1, N, 2]
    b2_rb = b2_rb.unsqueeze(-3);
    area1 = area1.unsqueeze(-1);
    area2 = area2.unsqueeze(-2);
  }
  torch::Tensor wh = (torch::min(b1_rb, b2_rb) - torch::max(b1_lt, b2_lt)).clamp_min(0);
  torch::Tensor overlap = col(wh, 0) * col(wh, 1);
  torch::Tensor union_ = mode == OverlapMode::kIoF ? area1 : area1 + area2 - overlap;
  torch::Tensor eps_t = torch::tensor({eps}, union_.options());
  union_ = torch::max(union_, eps_t);
  torch::Tensor ious = overlap / union_;
  if (mode != OverlapMode::kGIoU) return ious;

  torch::Tensor enclose_wh = (torch::max(b1_rb, b2_rb) - torch::min(b1_lt, b2_lt)).clamp_min(0);
  torch::Tensor enclose_area = torch::max(col(enclose_wh, 0) * col(enclose_wh, 1), eps_t);
  return ious - (enclose_area - union_) / enclose_area;
}

}  // namespace cppdet::ops
