#include "cppdet/ops/deform_im2col.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace cppdet::ops {
namespace {

// The sample positions, bilinear weights and corner validity are those of mmcv's CPU kernels
// (deformable_im2col_bilinear / get_coordinate_weight), computed in the same types and order.
// They depend on the deform group, the tap and the position but not on the channel, so each
// kernel computes them once and reuses them for every channel of the group.

// Bilinear taps of one sample: corner indices into an H*W plane and their weights, corners
// (y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high). A corner outside the
// image, or every corner of a sample outside (-1, H) x (-1, W), has weight 0 and index 0.
template <typename T>
struct DeformTap {
  int32_t idx[4];
  T w[4];
};

// A tap with the derivatives of the sampled value w.r.t. the sample's h and w: per corner,
// d(weight)/dh and d(weight)/dw (0 for a corner outside).
template <typename T>
struct DeformCoordTap {
  int32_t idx[4];
  T w[4], dh[4], dw[4];
};

template <typename T>
struct SampleCorners {
  int64_t h_low, w_low;
  T lh, lw, hh, hw;
  bool valid[4];
};

// false: the sample lies outside (-1, height) x (-1, width) and reads 0.
template <typename T>
bool sample_corners(T h, T w, int64_t height, int64_t width, SampleCorners<T>& s) {
  if (!(h > -1 && w > -1 && h < height && w < width)) return false;
  s.h_low = static_cast<int64_t>(std::floor(h));
  s.w_low = static_cast<int64_t>(std::floor(w));
  const int64_t h_high = s.h_low + 1, w_high = s.w_low + 1;
  s.lh = h - s.h_low;
  s.lw = w - s.w_low;
  s.hh = 1 - s.lh;
  s.hw = 1 - s.lw;
  s.valid[0] = s.h_low >= 0 && s.w_low >= 0;
  s.valid[1] = s.h_low >= 0 && w_high <= width - 1;
  s.valid[2] = h_high <= height - 1 && s.w_low >= 0;
  s.valid[3] = h_high <= height - 1 && w_high <= width - 1;
  return true;
}

template <typename T>
void corner_indices(const SampleCorners<T>& s, int64_t width, int32_t* idx) {
  const int64_t base = s.h_low * width + s.w_low;
  const int64_t pos[4] = {base, base + 1, base + width, base + width + 1};
  for (int c = 0; c < 4; ++c) idx[c] = s.valid[c] ? static_cast<int32_t>(pos[c]) : 0;
}

template <typename T>
DeformTap<T> make_deform_tap(T h, T w, int64_t height, int64_t width) {
  DeformTap<T> t{};
  SampleCorners<T> s;
  if (!sample_corners(h, w, height, width, s)) return t;
  corner_indices(s, width, t.idx);
  const T weights[4] = {s.hh * s.hw, s.hh * s.lw, s.lh * s.hw, s.lh * s.lw};
  for (int c = 0; c < 4; ++c) t.w[c] = s.valid[c] ? weights[c] : T(0);
  return t;
}

template <typename T>
DeformCoordTap<T> make_deform_coord_tap(T h, T w, int64_t height, int64_t width) {
  DeformCoordTap<T> t{};
  SampleCorners<T> s;
  if (!sample_corners(h, w, height, width, s)) return t;
  corner_indices(s, width, t.idx);
  const T weights[4] = {s.hh * s.hw, s.hh * s.lw, s.lh * s.hw, s.lh * s.lw};
  const T dh[4] = {-s.hw, -s.lw, s.hw, s.lw};
  const T dw[4] = {-s.hh, s.hh, -s.lh, s.lh};
  for (int c = 0; c < 4; ++c) {
    t.w[c] = s.valid[c] ? weights[c] : T(0);
    t.dh[c] = s.valid[c] ? dh[c] : T(0);
    t.dw[c] = s.valid[c] ? dw[c] : T(0);
  }
  return t;
}

// Sample position of tap k at position p, from offset rows 2k (dy) and 2k + 1 (dx) of one
// deform group (`offset` points at the group's first row).
template <typename T>
void deform_sample_position(const DeformGeometry& g, const T* offset, int64_t k, int64_t p, T& h, T& w) {
  const int64_t positions = g.out_h * g.out_w;
  const int64_t i = k / g.kernel_w, j = k % g.kernel_w;
  const int64_t ho = p / g.out_w, wo = p % g.out_w;
  const int64_t h_base = ho * g.stride_h - g.pad_h + i * g.dilation_h;
  const int64_t w_base = wo * g.stride_w - g.pad_w + j * g.dilation_w;
  h = static_cast<T>(h_base) + offset[(2 * k) * positions + p];
  w = static_cast<T>(w_base) + offset[(2 * k + 1) * positions + p];
}

// taps[(group * K + k) * P + p] for every deform group, tap and position.
template <typename T>
std::vector<DeformTap<T>> deform_taps(const DeformGeometry& g, const T* offset) {
  const int64_t taps_per_group = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  std::vector<DeformTap<T>> taps(static_cast<size_t>(g.deform_groups * taps_per_group * positions));
  at::parallel_for(0, g.deform_groups * taps_per_group, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t group = row / taps_per_group, k = row % taps_per_group;
      const T* group_offset = offset + group * 2 * taps_per_group * positions;
      DeformTap<T>* out = taps.data() + row * positions;
      for (int64_t p = 0; p < positions; ++p) {
        T h, w;
        deform_sample_position(g, group_offset, k, p, h, w);
        out[p] = make_deform_tap(h, w, g.height, g.width);
      }
    }
  });
  return taps;
}

template <typename T>
void im2col_kernel(const T* input, const T* offset, const T* mask, const DeformGeometry& g, T* columns) {
  const int64_t taps_per_group = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  const int64_t plane = g.height * g.width;
  const int64_t channels_per_group = g.channels / g.deform_groups;
  const std::vector<DeformTap<T>> taps = deform_taps(g, offset);
  at::parallel_for(0, g.channels * taps_per_group, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t c = row / taps_per_group, k = row % taps_per_group;
      const int64_t tap_row = (c / channels_per_group) * taps_per_group + k;
      const DeformTap<T>* t = taps.data() + tap_row * positions;
      const T* x = input + c * plane;
      T* out = columns + row * positions;
      if (mask) {
        const T* m = mask + tap_row * positions;
        for (int64_t p = 0; p < positions; ++p) {
          const DeformTap<T>& s = t[p];
          const T val = s.w[0] * x[s.idx[0]] + s.w[1] * x[s.idx[1]] + s.w[2] * x[s.idx[2]] + s.w[3] * x[s.idx[3]];
          out[p] = val * m[p];
        }
      } else {
        for (int64_t p = 0; p < positions; ++p) {
          const DeformTap<T>& s = t[p];
          out[p] = s.w[0] * x[s.idx[0]] + s.w[1] * x[s.idx[1]] + s.w[2] * x[s.idx[2]] + s.w[3] * x[s.idx[3]];
        }
      }
    }
  });
}

// Parallel over channels: each channel's plane receives only its own rows' scatter, in
// (tap, position) order, so the sums are deterministic.
template <typename T>
void col2im_kernel(const T* grad_columns, const T* offset, const T* mask, const DeformGeometry& g, T* grad_input) {
  const int64_t taps_per_group = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  const int64_t plane = g.height * g.width;
  const int64_t channels_per_group = g.channels / g.deform_groups;
  const std::vector<DeformTap<T>> taps = deform_taps(g, offset);
  at::parallel_for(0, g.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      T* gx = grad_input + c * plane;
      for (int64_t k = 0; k < taps_per_group; ++k) {
        const int64_t tap_row = (c / channels_per_group) * taps_per_group + k;
        const DeformTap<T>* t = taps.data() + tap_row * positions;
        const T* gc = grad_columns + (c * taps_per_group + k) * positions;
        const T* m = mask ? mask + tap_row * positions : nullptr;
        for (int64_t p = 0; p < positions; ++p) {
          const DeformTap<T>& s = t[p];
          const T grad = m ? gc[p] * m[p] : gc[p];
          for (int corner = 0; corner < 4; ++corner) gx[s.idx[corner]] += s.w[corner] * grad;
        }
      }
    }
  });
}

// Tiles of (deform group, tap, block of positions); each tile sums over the group's channels.
template <typename T>
void col2im_coord_kernel(const T* grad_columns, const T* input, const T* offset, const T* mask,
                         const DeformGeometry& g, T* grad_offset, T* grad_mask) {
  constexpr int64_t kBlock = 512;
  const int64_t taps_per_group = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  const int64_t plane = g.height * g.width;
  const int64_t channels_per_group = g.channels / g.deform_groups;
  const int64_t blocks = (positions + kBlock - 1) / kBlock;
  at::parallel_for(0, g.deform_groups * taps_per_group * blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<DeformCoordTap<T>> taps(kBlock);
    std::vector<T> acc_h(kBlock), acc_w(kBlock), acc_m(kBlock);
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t row = tile / blocks;  // group * K + k
      const int64_t group = row / taps_per_group, k = row % taps_per_group;
      const int64_t p0 = (tile % blocks) * kBlock, n = std::min(kBlock, positions - p0);
      const T* group_offset = offset + group * 2 * taps_per_group * positions;
      for (int64_t q = 0; q < n; ++q) {
        T h, w;
        deform_sample_position(g, group_offset, k, p0 + q, h, w);
        taps[q] = make_deform_coord_tap(h, w, g.height, g.width);
      }
      std::fill(acc_h.begin(), acc_h.begin() + n, T(0));
      std::fill(acc_w.begin(), acc_w.begin() + n, T(0));
      std::fill(acc_m.begin(), acc_m.begin() + n, T(0));
      for (int64_t c = group * channels_per_group; c < (group + 1) * channels_per_group; ++c) {
        const T* x = input + c * plane;
        const T* gc = grad_columns + (c * taps_per_group + k) * positions + p0;
        for (int64_t q = 0; q < n; ++q) {
          const DeformCoordTap<T>& s = taps[q];
          const T v[4] = {x[s.idx[0]], x[s.idx[1]], x[s.idx[2]], x[s.idx[3]]};
          acc_h[q] += gc[q] * (s.dh[0] * v[0] + s.dh[1] * v[1] + s.dh[2] * v[2] + s.dh[3] * v[3]);
          acc_w[q] += gc[q] * (s.dw[0] * v[0] + s.dw[1] * v[1] + s.dw[2] * v[2] + s.dw[3] * v[3]);
          acc_m[q] += gc[q] * (s.w[0] * v[0] + s.w[1] * v[1] + s.w[2] * v[2] + s.w[3] * v[3]);
        }
      }
      // d(out)/d(dy) = grad * mask * dv/dh, and d(out)/d(mask) = grad * v.
      const T* m = mask ? mask + row * positions + p0 : nullptr;
      T* go_h = grad_offset + (group * 2 * taps_per_group + 2 * k) * positions + p0;
      T* go_w = go_h + positions;
      for (int64_t q = 0; q < n; ++q) {
        go_h[q] = m ? acc_h[q] * m[q] : acc_h[q];
        go_w[q] = m ? acc_w[q] * m[q] : acc_w[q];
      }
      if (m) std::copy(acc_m.begin(), acc_m.begin() + n, grad_mask + row * positions + p0);
    }
  });
}

template <typename T>
const T* optional_data(const torch::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace

torch::Tensor deform_im2col_cpu(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                                const DeformGeometry& g) {
  torch::Tensor columns =
      torch::empty({g.channels * g.kernel_h * g.kernel_w, g.out_h * g.out_w}, input.options());
  if (columns.numel() == 0) return columns;
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "deform_im2col_cpu", [&] {
    im2col_kernel<scalar_t>(input.data_ptr<scalar_t>(), offset.data_ptr<scalar_t>(), optional_data<scalar_t>(mask), g,
                            columns.data_ptr<scalar_t>());
  });
  return columns;
}

void deform_col2im_cpu(const torch::Tensor& grad_columns, const torch::Tensor& offset, const torch::Tensor& mask,
                       const DeformGeometry& g, torch::Tensor& grad_input) {
  if (grad_columns.numel() == 0) return;
  AT_DISPATCH_FLOATING_TYPES(grad_columns.scalar_type(), "deform_col2im_cpu", [&] {
    col2im_kernel<scalar_t>(grad_columns.data_ptr<scalar_t>(), offset.data_ptr<scalar_t>(),
                            optional_data<scalar_t>(mask), g, grad_input.data_ptr<scalar_t>());
  });
}

void deform_col2im_coord_cpu(const torch::Tensor& grad_columns, const torch::Tensor& input,
                             const torch::Tensor& offset, const torch::Tensor& mask, const DeformGeometry& g,
                             torch::Tensor& grad_offset, torch::Tensor& grad_mask) {
  if (grad_offset.numel() == 0) return;
  AT_DISPATCH_FLOATING_TYPES(grad_columns.scalar_type(), "deform_col2im_coord_cpu", [&] {
    col2im_coord_kernel<scalar_t>(grad_columns.data_ptr<scalar_t>(), input.data_ptr<scalar_t>(),
                                  offset.data_ptr<scalar_t>(), optional_data<scalar_t>(mask), g,
                                  grad_offset.data_ptr<scalar_t>(),
                                  mask.defined() ? grad_mask.data_ptr<scalar_t>() : nullptr);
  });
}

}  // namespace cppdet::ops
