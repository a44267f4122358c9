#include "cppdet/ops/mask_paste.h"

#include <ATen/Parallel.h>
#include <torch/nn/functional/vision.h>

#include <cmath>

namespace cppdet::ops {
namespace {

using torch::indexing::Slice;

// The sampled values of masks [n, 1, h, w] over the image window [y0, y1) x [x0, x1)
// -> [n, y1 - y0, x1 - x0] float.
torch::Tensor sample_window(const torch::Tensor& masks, const torch::Tensor& boxes, int64_t x0_int,
                            int64_t y0_int, int64_t x1_int, int64_t y1_int) {
  const int64_t n = masks.size(0);
  auto opts = masks.options().dtype(torch::kFloat32);
  torch::Tensor x0 = boxes.index({Slice(), Slice(0, 1)});  // [n, 1]
  torch::Tensor y0 = boxes.index({Slice(), Slice(1, 2)});
  torch::Tensor x1 = boxes.index({Slice(), Slice(2, 3)});
  torch::Tensor y1 = boxes.index({Slice(), Slice(3, 4)});
  torch::Tensor img_y = torch::arange(y0_int, y1_int, opts.dtype(torch::kLong)).to(torch::kFloat32) + 0.5;
  torch::Tensor img_x = torch::arange(x0_int, x1_int, opts.dtype(torch::kLong)).to(torch::kFloat32) + 0.5;
  img_y = (img_y - y0) / (y1 - y0) * 2 - 1;  // [n, h']
  img_x = (img_x - x0) / (x1 - x0) * 2 - 1;  // [n, w']
  // Zero-size boxes give inf; mmdet replaces those by 0.
  img_x.masked_fill_(torch::isinf(img_x), 0);
  img_y.masked_fill_(torch::isinf(img_y), 0);
  const int64_t h = img_y.size(1), w = img_x.size(1);
  torch::Tensor gx = img_x.unsqueeze(1).expand({n, h, w});
  torch::Tensor gy = img_y.unsqueeze(2).expand({n, h, w});
  torch::Tensor grid = torch::stack({gx, gy}, 3);
  namespace F = torch::nn::functional;
  torch::Tensor sampled = F::grid_sample(
      masks.to(torch::kFloat32), grid,
      F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
  return sampled.select(1, 0);
}

torch::Tensor binarize(const torch::Tensor& values, double threshold) {
  if (threshold >= 0) return values >= threshold;
  return (values * 255).to(torch::kUInt8);
}

}  // namespace

torch::Tensor paste_masks(const torch::Tensor& masks, const torch::Tensor& boxes, int64_t img_h,
                          int64_t img_w, double threshold) {
  TORCH_CHECK(masks.dim() == 3, "paste_masks: masks must be [N, h, w], got ", masks.sizes());
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4 && boxes.size(0) == masks.size(0),
              "paste_masks: boxes must be [N, 4] matching masks, got ", boxes.sizes());
  const int64_t n = masks.size(0);
  auto out_dtype = threshold >= 0 ? torch::kBool : torch::kUInt8;
  torch::Tensor out = torch::zeros({n, img_h, img_w}, masks.options().dtype(out_dtype));
  if (n == 0 || img_h == 0 || img_w == 0) return out;
  const torch::Tensor m = masks.unsqueeze(1);
  const torch::Tensor b = boxes.to(torch::kFloat32);

  if (!masks.is_cuda()) {
    // One detection at a time, only inside its box window (clipped to the image).
    const torch::Tensor b_cpu = b.contiguous();
    const float* bp = b_cpu.data_ptr<float>();
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float* box = bp + i * 4;
        const int64_t x0_int = static_cast<int32_t>(std::max(std::floor(box[0]) - 1.f, 0.f));
        const int64_t y0_int = static_cast<int32_t>(std::max(std::floor(box[1]) - 1.f, 0.f));
        const int64_t x1_int = static_cast<int32_t>(std::min(std::ceil(box[2]) + 1.f, static_cast<float>(img_w)));
        const int64_t y1_int = static_cast<int32_t>(std::min(std::ceil(box[3]) + 1.f, static_cast<float>(img_h)));
        if (x1_int <= x0_int || y1_int <= y0_int) continue;
        torch::Tensor values = sample_window(m.narrow(0, i, 1), b.narrow(0, i, 1), x0_int, y0_int, x1_int, y1_int);
        out[i].index_put_({Slice(y0_int, y1_int), Slice(x0_int, x1_int)}, binarize(values[0], threshold));
      }
    });
    return out;
  }
  // GPU: whole-image chunks of at most ~1 GiB of float samples.
  constexpr double kGpuMemLimit = 1024.0 * 1024.0 * 1024.0;
  const int64_t num_chunks = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(static_cast<double>(n) * img_h * img_w * 4 / kGpuMemLimit)));
  const int64_t chunk = (n + num_chunks - 1) / num_chunks;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    torch::Tensor values = sample_window(m.narrow(0, start, len), b.narrow(0, start, len), 0, 0, img_w, img_h);
    out.narrow(0, start, len).copy_(binarize(values, threshold));
  }
  return out;
}

}  // namespace cppdet::ops
