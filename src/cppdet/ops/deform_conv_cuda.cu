// CUDA sampling kernels of deformable convolution (compiled only in CUDA builds): one thread
// per (channel, position) for im2col, per column element for col2im (atomic scatter, so the
// sum order is not fixed), per (deform group, tap, position) for the offset / mask gradients.
// Same sample positions, validity and bilinear weights as the CPU kernels (deform_im2col.cpp).
#include <ATen/ATen.h>
#include <ATen/cuda/Atomic.cuh>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "cppdet/ops/cuda_kernels.h"

namespace cppdet::ops::cuda {
namespace {

constexpr int kDeformThreads = 256;

inline int deform_blocks(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kDeformThreads - 1) / kDeformThreads, 65535 * 8));
}

// The corners of a sample at (h, w): false when it lies outside (-1, H) x (-1, W) and reads 0.
// idx: corner offsets in the plane; weight: bilinear weights, 0 for a corner outside.
template <typename T>
struct DeformCorners {
  int64_t idx[4];
  T weight[4];
  T lh, lw, hh, hw;
  bool valid[4];
};

template <typename T>
__device__ bool deform_corners(T h, T w, int64_t height, int64_t width, DeformCorners<T>& s) {
  if (!(h > -1 && w > -1 && h < height && w < width)) return false;
  const int64_t h_low = static_cast<int64_t>(floor(h)), w_low = static_cast<int64_t>(floor(w));
  const int64_t h_high = h_low + 1, w_high = w_low + 1;
  s.lh = h - h_low;
  s.lw = w - w_low;
  s.hh = 1 - s.lh;
  s.hw = 1 - s.lw;
  s.valid[0] = h_low >= 0 && w_low >= 0;
  s.valid[1] = h_low >= 0 && w_high <= width - 1;
  s.valid[2] = h_high <= height - 1 && w_low >= 0;
  s.valid[3] = h_high <= height - 1 && w_high <= width - 1;
  const int64_t base = h_low * width + w_low;
  const int64_t pos[4] = {base, base + 1, base + width, base + width + 1};
  const T weights[4] = {s.hh * s.hw, s.hh * s.lw, s.lh * s.hw, s.lh * s.lw};
  for (int c = 0; c < 4; ++c) {
    s.idx[c] = s.valid[c] ? pos[c] : 0;
    s.weight[c] = s.valid[c] ? weights[c] : T(0);
  }
  return true;
}

// Sample position of tap k at position p from the deform group's offset rows 2k / 2k + 1.
template <typename T>
__device__ void deform_position(const DeformGeometry& g, const T* group_offset, int64_t k, int64_t p, T& h, T& w) {
  const int64_t positions = g.out_h * g.out_w;
  const int64_t i = k / g.kernel_w, j = k % g.kernel_w;
  const int64_t ho = p / g.out_w, wo = p % g.out_w;
  h = static_cast<T>(ho * g.stride_h - g.pad_h + i * g.dilation_h) + group_offset[(2 * k) * positions + p];
  w = static_cast<T>(wo * g.stride_w - g.pad_w + j * g.dilation_w) + group_offset[(2 * k + 1) * positions + p];
}

template <typename T>
__global__ void deform_im2col_kernel(int64_t total, const T* input, const T* offset, const T* mask,
                                     DeformGeometry g, T* columns) {
  const int64_t taps = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  const int64_t channels_per_group = g.channels / g.deform_groups;
  for (int64_t index = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; index < total;
       index += (int64_t)blockDim.x * gridDim.x) {
    const int64_t p = index % positions, c = index / positions;
    const int64_t group = c / channels_per_group;
    const T* x = input + c * g.height * g.width;
    const T* group_offset = offset + group * 2 * taps * positions;
    for (int64_t k = 0; k < taps; ++k) {
      T h, w;
      deform_position(g, group_offset, k, p, h, w);
      DeformCorners<T> s;
      T val = 0;
      if (deform_corners(h, w, g.height, g.width, s))
        val = s.weight[0] * x[s.idx[0]] + s.weight[1] * x[s.idx[1]] + s.weight[2] * x[s.idx[2]] +
              s.weight[3] * x[s.idx[3]];
      if (mask) val *= mask[(group * taps + k) * positions + p];
      columns[(c * taps + k) * positions + p] = val;
    }
  }
}

template <typename T>
__global__ void deform_col2im_kernel(int64_t total, const T* grad_columns, const T* offset, const T* mask,
                                     DeformGeometry g, T* grad_input) {
  const int64_t taps = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  const int64_t channels_per_group = g.channels / g.deform_groups;
  for (int64_t index = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; index < total;
       index += (int64_t)blockDim.x * gridDim.x) {
    const int64_t p = index % positions, k = (index / positions) % taps, c = index / positions / taps;
    const int64_t group = c / channels_per_group;
    T h, w;
    deform_position(g, offset + group * 2 * taps * positions, k, p, h, w);
    DeformCorners<T> s;
    if (!deform_corners(h, w, g.height, g.width, s)) continue;
    T grad = grad_columns[index];
    if (mask) grad *= mask[(group * taps + k) * positions + p];
    T* gx = grad_input + c * g.height * g.width;
    for (int corner = 0; corner < 4; ++corner)
      if (s.valid[corner]) gpuAtomicAdd(gx + s.idx[corner], s.weight[corner] * grad);
  }
}

template <typename T>
__global__ void deform_col2im_coord_kernel(int64_t total, const T* grad_columns, const T* input, const T* offset,
                                           const T* mask, DeformGeometry g, T* grad_offset, T* grad_mask) {
  const int64_t taps = g.kernel_h * g.kernel_w, positions = g.out_h * g.out_w;
  const int64_t channels_per_group = g.channels / g.deform_groups;
  for (int64_t index = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; index < total;
       index += (int64_t)blockDim.x * gridDim.x) {
    const int64_t p = index % positions, row = index / positions;  // row = group * K + k
    const int64_t group = row / taps, k = row % taps;
    T h, w;
    deform_position(g, offset + group * 2 * taps * positions, k, p, h, w);
    DeformCorners<T> s;
    T acc_h = 0, acc_w = 0, acc_m = 0;
    if (deform_corners(h, w, g.height, g.width, s)) {
      const T dh[4] = {-s.hw, -s.lw, s.hw, s.lw};
      const T dw[4] = {-s.hh, s.hh, -s.lh, s.lh};
      for (int64_t c = group * channels_per_group; c < (group + 1) * channels_per_group; ++c) {
        const T* x = input + c * g.height * g.width;
        const T gc = grad_columns[(c * taps + k) * positions + p];
        for (int corner = 0; corner < 4; ++corner) {
          if (!s.valid[corner]) continue;
          const T v = x[s.idx[corner]];
          acc_h += gc * dh[corner] * v;
          acc_w += gc * dw[corner] * v;
          acc_m += gc * s.weight[corner] * v;
        }
      }
    }
    const T m = mask ? mask[row * positions + p] : T(1);
    grad_offset[(group * 2 * taps + 2 * k) * positions + p] = acc_h * m;
    grad_offset[(group * 2 * taps + 2 * k + 1) * positions + p] = acc_w * m;
    if (mask) grad_mask[row * positions + p] = acc_m;
  }
}

template <typename T>
const T* optional_ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace

at::Tensor deform_im2col(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                         const DeformGeometry& g) {
  c10::cuda::CUDAGuard guard(input.device());
  at::Tensor columns = at::empty({g.channels * g.kernel_h * g.kernel_w, g.out_h * g.out_w}, input.options());
  const int64_t total = g.channels * g.out_h * g.out_w;
  if (total == 0) return columns;
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "deform_im2col_cuda", [&] {
    deform_im2col_kernel<scalar_t><<<deform_blocks(total), kDeformThreads, 0, stream>>>(
        total, input.data_ptr<scalar_t>(), offset.data_ptr<scalar_t>(), optional_ptr<scalar_t>(mask), g,
        columns.data_ptr<scalar_t>());
  });
  AT_CUDA_CHECK(cudaGetLastError());
  return columns;
}

void deform_col2im(const at::Tensor& grad_columns, const at::Tensor& offset, const at::Tensor& mask,
                   const DeformGeometry& g, at::Tensor& grad_input) {
  c10::cuda::CUDAGuard guard(grad_columns.device());
  const int64_t total = grad_columns.numel();
  if (total == 0) return;
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(grad_columns.scalar_type(), "deform_col2im_cuda", [&] {
    deform_col2im_kernel<scalar_t><<<deform_blocks(total), kDeformThreads, 0, stream>>>(
        total, grad_columns.data_ptr<scalar_t>(), offset.data_ptr<scalar_t>(), optional_ptr<scalar_t>(mask), g,
        grad_input.data_ptr<scalar_t>());
  });
  AT_CUDA_CHECK(cudaGetLastError());
}

void deform_col2im_coord(const at::Tensor& grad_columns, const at::Tensor& input, const at::Tensor& offset,
                         const at::Tensor& mask, const DeformGeometry& g, at::Tensor& grad_offset,
                         at::Tensor& grad_mask) {
  c10::cuda::CUDAGuard guard(grad_columns.device());
  const int64_t total = g.deform_groups * g.kernel_h * g.kernel_w * g.out_h * g.out_w;
  if (total == 0) return;
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(grad_columns.scalar_type(), "deform_col2im_coord_cuda", [&] {
    deform_col2im_coord_kernel<scalar_t><<<deform_blocks(total), kDeformThreads, 0, stream>>>(
        total, grad_columns.data_ptr<scalar_t>(), input.data_ptr<scalar_t>(), offset.data_ptr<scalar_t>(),
        optional_ptr<scalar_t>(mask), g, grad_offset.data_ptr<scalar_t>(),
        mask.defined() ? grad_mask.data_ptr<scalar_t>() : nullptr);
  });
  AT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cppdet::ops::cuda
