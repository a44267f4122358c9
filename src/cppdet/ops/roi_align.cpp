#include "cppdet/ops/roi_align.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cppdet/ops/cuda_kernels.h"

namespace cppdet::ops {
namespace {

// Geometry of one RoI, computed exactly as torchvision's CPU kernel does (same types and
// operation order), so that sample positions and weights are bit-identical.
template <typename T>
struct RoiGeometry {
  int64_t batch;
  T start_h, start_w, bin_h, bin_w;
  int grid_h, grid_w;

  RoiGeometry(const T* roi, T spatial_scale, int64_t pooled_h, int64_t pooled_w,
              int64_t sampling_ratio, bool aligned) {
    batch = static_cast<int64_t>(roi[0]);
    const T offset = aligned ? (T)0.5 : (T)0.0;
    start_w = roi[1] * spatial_scale - offset;
    start_h = roi[2] * spatial_scale - offset;
    const T end_w = roi[3] * spatial_scale - offset;
    const T end_h = roi[4] * spatial_scale - offset;
    T roi_w = end_w - start_w;
    T roi_h = end_h - start_h;
    if (!aligned) {  // legacy mode: malformed RoIs forced to 1x1
      roi_w = std::max(roi_w, (T)1.);
      roi_h = std::max(roi_h, (T)1.);
    }
    bin_h = roi_h / static_cast<T>(pooled_h);
    bin_w = roi_w / static_cast<T>(pooled_w);
    grid_h = sampling_ratio > 0 ? static_cast<int>(sampling_ratio)
                                : static_cast<int>(std::ceil(roi_h / static_cast<T>(pooled_h)));
    grid_w = sampling_ratio > 0 ? static_cast<int>(sampling_ratio)
                                : static_cast<int>(std::ceil(roi_w / static_cast<T>(pooled_w)));
  }
  T sample_y(int64_t ph, int iy) const {
    return start_h + ph * bin_h + static_cast<T>(iy + .5f) * bin_h / static_cast<T>(grid_h);
  }
  T sample_x(int64_t pw, int ix) const {
    return start_w + pw * bin_w + static_cast<T>(ix + .5f) * bin_w / static_cast<T>(grid_w);
  }
};

// Bilinear taps of one sample point; all-zero weights when it lies outside [-1, size].
template <typename T>
struct Taps {
  int64_t pos1 = 0, pos2 = 0, pos3 = 0, pos4 = 0;
  T w1 = 0, w2 = 0, w3 = 0, w4 = 0;
  bool valid = false;
};

template <typename T>
Taps<T> bilinear_taps(int64_t height, int64_t width, T y, T x) {
  Taps<T> t;
  if (y < -1.0 || y > height || x < -1.0 || x > width) return t;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  int64_t y_low = static_cast<int>(y);
  int64_t x_low = static_cast<int>(x);
  int64_t y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = (T)y_low;
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = (T)x_low;
  } else {
    x_high = x_low + 1;
  }
  const T ly = y - y_low;
  const T lx = x - x_low;
  const T hy = 1. - ly, hx = 1. - lx;
  t.w1 = hy * hx;
  t.w2 = hy * lx;
  t.w3 = ly * hx;
  t.w4 = ly * lx;
  t.pos1 = y_low * width + x_low;
  t.pos2 = y_low * width + x_high;
  t.pos3 = y_high * width + x_low;
  t.pos4 = y_high * width + x_high;
  t.valid = true;
  return t;
}

// Appends the bilinear taps of every sample of every bin of one RoI, in (bin, sample) order.
template <typename T>
void append_roi_taps(const RoiGeometry<T>& g, int64_t height, int64_t width, int64_t pooled_h,
                     int64_t pooled_w, std::vector<Taps<T>>& taps) {
  for (int64_t ph = 0; ph < pooled_h; ++ph)
    for (int64_t pw = 0; pw < pooled_w; ++pw)
      for (int iy = 0; iy < g.grid_h; ++iy) {
        const T y = g.sample_y(ph, iy);
        for (int ix = 0; ix < g.grid_w; ++ix) taps.push_back(bilinear_taps<T>(height, width, y, g.sample_x(pw, ix)));
      }
}

template <typename T>
void forward_cpu(const T* input, const T* rois, int64_t n_rois, int64_t channels, int64_t height,
                 int64_t width, int64_t pooled_h, int64_t pooled_w, T spatial_scale,
                 int64_t sampling_ratio, bool aligned, T* output) {
  at::parallel_for(0, n_rois, 1, [&](int64_t begin, int64_t end) {
    std::vector<Taps<T>> taps;
    for (int64_t n = begin; n < end; ++n) {
      const RoiGeometry<T> g(rois + n * 5, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned);
      const T count = std::max(g.grid_h * g.grid_w, 1);
      // Taps are shared by all channels: precompute them once per RoI.
      taps.clear();
      append_roi_taps(g, height, width, pooled_h, pooled_w, taps);
      for (int64_t c = 0; c < channels; ++c) {
        const T* in = input + (g.batch * channels + c) * height * width;
        T* out = output + (n * channels + c) * pooled_h * pooled_w;
        size_t k = 0;
        for (int64_t p = 0; p < pooled_h * pooled_w; ++p) {
          T val = 0.;
          for (int s = 0; s < g.grid_h * g.grid_w; ++s, ++k) {
            const Taps<T>& t = taps[k];
            val += t.w1 * in[t.pos1] + t.w2 * in[t.pos2] + t.w3 * in[t.pos3] + t.w4 * in[t.pos4];
          }
          val /= count;
          out[p] = val;
        }
      }
    }
  });
}

// Parallel over channels; within a channel the contributions are added in torchvision's
// sequential order (RoI, bin, sample), so the sums are bit-identical to it. The taps, shared by
// all channels, are computed once per chunk of RoIs (chunks bound their memory).
template <typename T>
void backward_cpu(const T* grad_output, const T* rois, int64_t n_rois, int64_t channels,
                  int64_t height, int64_t width, int64_t pooled_h, int64_t pooled_w,
                  T spatial_scale, int64_t sampling_ratio, bool aligned, T* grad_input) {
  constexpr size_t kMaxTapsPerChunk = size_t{1} << 18;
  std::vector<Taps<T>> taps;
  std::vector<size_t> tap_offset;
  for (int64_t chunk_begin = 0; chunk_begin < n_rois;) {
    // Grow the chunk RoI by RoI until it holds about kMaxTapsPerChunk taps.
    int64_t chunk_end = chunk_begin;
    taps.clear();
    tap_offset.assign(1, 0);  // tap_offset[n - chunk_begin]: first tap of RoI n
    while (chunk_end < n_rois && taps.size() < kMaxTapsPerChunk) {
      const RoiGeometry<T> g(rois + chunk_end * 5, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned);
      append_roi_taps(g, height, width, pooled_h, pooled_w, taps);
      tap_offset.push_back(taps.size());
      ++chunk_end;
    }
    at::parallel_for(0, channels, 1, [&](int64_t c_begin, int64_t c_end) {
      for (int64_t c = c_begin; c < c_end; ++c) {
        for (int64_t n = chunk_begin; n < chunk_end; ++n) {
          const int64_t batch = static_cast<int64_t>(rois[n * 5]);
          const size_t first = tap_offset[n - chunk_begin];
          const size_t samples_per_bin = (tap_offset[n - chunk_begin + 1] - first) / (pooled_h * pooled_w);
          const T count = static_cast<T>(samples_per_bin);
          T* gin = grad_input + (batch * channels + c) * height * width;
          const T* gout = grad_output + (n * channels + c) * pooled_h * pooled_w;
          const Taps<T>* t = taps.data() + first;
          for (int64_t p = 0; p < pooled_h * pooled_w; ++p) {
            const T grad_bin = gout[p];
            for (size_t s = 0; s < samples_per_bin; ++s, ++t) {
              if (!t->valid) continue;
              gin[t->pos1] += grad_bin * t->w1 / count;
              gin[t->pos2] += grad_bin * t->w2 / count;
              gin[t->pos3] += grad_bin * t->w3 / count;
              gin[t->pos4] += grad_bin * t->w4 / count;
            }
          }
        }
      }
    });
    chunk_begin = chunk_end;
  }
}

void check_inputs(const torch::Tensor& t, const torch::Tensor& rois, const char* what) {
  TORCH_CHECK(t.dim() == 4, "roi_align: ", what, " must be 4-D, got ", t.sizes());
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, "roi_align: rois must be [K, 5], got ", rois.sizes());
  TORCH_CHECK(t.device() == rois.device(), "roi_align: ", what, " and rois on different devices");
  TORCH_CHECK(t.scalar_type() == rois.scalar_type(), "roi_align: ", what, " and rois dtypes differ");
}

class RoIAlignFunction : public torch::autograd::Function<RoIAlignFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& rois, int64_t out_h, int64_t out_w,
                               double spatial_scale, int64_t sampling_ratio, bool aligned) {
    ctx->saved_data["out_h"] = out_h;
    ctx->saved_data["out_w"] = out_w;
    ctx->saved_data["spatial_scale"] = spatial_scale;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->saved_data["aligned"] = aligned;
    ctx->saved_data["input_shape"] = input.sizes().vec();
    ctx->save_for_backward({rois});
    return roi_align_forward(input, rois, out_h, out_w, spatial_scale, sampling_ratio, aligned);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor rois = ctx->get_saved_variables()[0];
    const std::vector<int64_t> shape = ctx->saved_data["input_shape"].toIntVector();
    torch::Tensor grad_input = roi_align_backward(
        grads[0], rois, ctx->saved_data["out_h"].toInt(), ctx->saved_data["out_w"].toInt(),
        ctx->saved_data["spatial_scale"].toDouble(), ctx->saved_data["sampling_ratio"].toInt(),
        ctx->saved_data["aligned"].toBool(), shape);
    return {grad_input, torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor roi_align_forward(const torch::Tensor& input, const torch::Tensor& rois,
                                int64_t out_h, int64_t out_w, double spatial_scale,
                                int64_t sampling_ratio, bool aligned) {
  check_inputs(input, rois, "input");
  if (input.is_cuda()) {
#ifdef CPPDET_WITH_CUDA
    return cuda::roi_align_forward(input, rois, spatial_scale, out_h, out_w, sampling_ratio, aligned);
#else
    cuda::unavailable("roi_align");
#endif
  }
  const torch::Tensor in = input.contiguous();
  const torch::Tensor r = rois.contiguous();
  torch::Tensor output = torch::zeros({r.size(0), in.size(1), out_h, out_w}, in.options());
  if (output.numel() == 0) return output;
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "roi_align_forward_cpu", [&] {
    forward_cpu<scalar_t>(in.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), r.size(0), in.size(1),
                          in.size(2), in.size(3), out_h, out_w, static_cast<scalar_t>(spatial_scale),
                          sampling_ratio, aligned, output.data_ptr<scalar_t>());
  });
  return output;
}

torch::Tensor roi_align_backward(const torch::Tensor& grad_output, const torch::Tensor& rois,
                                 int64_t out_h, int64_t out_w, double spatial_scale,
                                 int64_t sampling_ratio, bool aligned,
                                 at::IntArrayRef input_shape) {
  check_inputs(grad_output, rois, "grad_output");
  TORCH_CHECK(input_shape.size() == 4, "roi_align_backward: input_shape must have 4 dims");
  if (grad_output.is_cuda()) {
#ifdef CPPDET_WITH_CUDA
    return cuda::roi_align_backward(grad_output, rois, spatial_scale, out_h, out_w, input_shape[0],
                                    input_shape[1], input_shape[2], input_shape[3], sampling_ratio,
                                    aligned);
#else
    cuda::unavailable("roi_align_backward");
#endif
  }
  const torch::Tensor go = grad_output.contiguous();
  const torch::Tensor r = rois.contiguous();
  torch::Tensor grad_input = torch::zeros(input_shape, go.options());
  if (go.numel() == 0) return grad_input;
  AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_align_backward_cpu", [&] {
    backward_cpu<scalar_t>(go.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), r.size(0), input_shape[1],
                           input_shape[2], input_shape[3], out_h, out_w,
                           static_cast<scalar_t>(spatial_scale), sampling_ratio, aligned,
                           grad_input.data_ptr<scalar_t>());
  });
  return grad_input;
}

torch::Tensor roi_align(const torch::Tensor& input, const torch::Tensor& rois, int64_t out_h,
                        int64_t out_w, double spatial_scale, int64_t sampling_ratio, bool aligned) {
  if (torch::GradMode::is_enabled() && input.requires_grad())
    return RoIAlignFunction::apply(input, rois, out_h, out_w, spatial_scale, sampling_ratio, aligned);
  return roi_align_forward(input, rois, out_h, out_w, spatial_scale, sampling_ratio, aligned);
}

}  // namespace cppdet::ops
