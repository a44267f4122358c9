// CUDA RoIAlign (compiled only in CUDA builds): one thread per output element for the
// forward pass, atomicAdd scatter for the backward pass. Same sample positions and weights
// as the CPU kernel (torchvision/mmcv semantics); the backward sum order is not fixed.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "cppdet/ops/cuda_kernels.h"

namespace cppdet::ops::cuda {
namespace {

constexpr int kThreads = 256;

inline int num_blocks(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535 * 8));
}

template <typename T>
struct Geometry {
  int batch;
  T start_h, start_w, bin_h, bin_w;
  int grid_h, grid_w;
};

template <typename T>
__device__ Geometry<T> roi_geometry(const T* roi, T spatial_scale, int pooled_h, int pooled_w,
                                    int sampling_ratio, bool aligned) {
  Geometry<T> g;
  g.batch = static_cast<int>(roi[0]);
  const T offset = aligned ? (T)0.5 : (T)0.0;
  g.start_w = roi[1] * spatial_scale - offset;
  g.start_h = roi[2] * spatial_scale - offset;
  T roi_w = roi[3] * spatial_scale - offset - g.start_w;
  T roi_h = roi[4] * spatial_scale - offset - g.start_h;
  if (!aligned) {
    roi_w = max(roi_w, (T)1.);
    roi_h = max(roi_h, (T)1.);
  }
  g.bin_h = roi_h / static_cast<T>(pooled_h);
  g.bin_w = roi_w / static_cast<T>(pooled_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(roi_h / pooled_h));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(roi_w / pooled_w));
  return g;
}

// Bilinear taps; returns false (and zero weights) outside [-1, size].
template <typename T>
__device__ bool taps(int height, int width, T y, T x, T& w1, T& w2, T& w3, T& w4, int& x_low,
                     int& x_high, int& y_low, int& y_high) {
  w1 = w2 = w3 = w4 = 0;
  x_low = x_high = y_low = y_high = 0;
  if (y < -1.0 || y > height || x < -1.0 || x > width) return false;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  y_low = static_cast<int>(y);
  x_low = static_cast<int>(x);
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
  const T ly = y - y_low, lx = x - x_low;
  const T hy = 1. - ly, hx = 1. - lx;
  w1 = hy * hx;
  w2 = hy * lx;
  w3 = ly * hx;
  w4 = ly * lx;
  return true;
}

template <typename T>
__global__ void forward_kernel(int64_t total, const T* input, const T* rois, T spatial_scale,
                               int channels, int height, int width, int pooled_h, int pooled_w,
                               int sampling_ratio, bool aligned, T* output) {
  for (int64_t index = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; index < total;
       index += (int64_t)blockDim.x * gridDim.x) {
    const int pw = index % pooled_w;
    const int ph = (index / pooled_w) % pooled_h;
    const int c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    const Geometry<T> g = roi_geometry<T>(rois + n * 5, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned);
    const T* in = input + (static_cast<int64_t>(g.batch) * channels + c) * height * width;
    const T count = max(g.grid_h * g.grid_w, 1);
    T val = 0.;
    for (int iy = 0; iy < g.grid_h; ++iy) {
      const T y = g.start_h + ph * g.bin_h + static_cast<T>(iy + .5f) * g.bin_h / static_cast<T>(g.grid_h);
      for (int ix = 0; ix < g.grid_w; ++ix) {
        const T x = g.start_w + pw * g.bin_w + static_cast<T>(ix + .5f) * g.bin_w / static_cast<T>(g.grid_w);
        T w1, w2, w3, w4;
        int xl, xh, yl, yh;
        taps<T>(height, width, y, x, w1, w2, w3, w4, xl, xh, yl, yh);
        val += w1 * in[yl * width + xl] + w2 * in[yl * width + xh] + w3 * in[yh * width + xl] +
               w4 * in[yh * width + xh];
      }
    }
    output[index] = val / count;
  }
}

template <typename T>
__global__ void backward_kernel(int64_t total, const T* grad_output, const T* rois, T spatial_scale,
                                int channels, int height, int width, int pooled_h, int pooled_w,
                                int sampling_ratio, bool aligned, T* grad_input) {
  for (int64_t index = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; index < total;
       index += (int64_t)blockDim.x * gridDim.x) {
    const int pw = index % pooled_w;
    const int ph = (index / pooled_w) % pooled_h;
    const int c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    const Geometry<T> g = roi_geometry<T>(rois + n * 5, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned);
    T* gin = grad_input + (static_cast<int64_t>(g.batch) * channels + c) * height * width;
    const T grad_bin = grad_output[index];
    const T count = g.grid_h * g.grid_w;
    for (int iy = 0; iy < g.grid_h; ++iy) {
      const T y = g.start_h + ph * g.bin_h + static_cast<T>(iy + .5f) * g.bin_h / static_cast<T>(g.grid_h);
      for (int ix = 0; ix < g.grid_w; ++ix) {
        const T x = g.start_w + pw * g.bin_w + static_cast<T>(ix + .5f) * g.bin_w / static_cast<T>(g.grid_w);
        T w1, w2, w3, w4;
        int xl, xh, yl, yh;
        if (!taps<T>(height, width, y, x, w1, w2, w3, w4, xl, xh, yl, yh)) continue;
        atomicAdd(gin + yl * width + xl, grad_bin * w1 / count);
        atomicAdd(gin + yl * width + xh, grad_bin * w2 / count);
        atomicAdd(gin + yh * width + xl, grad_bin * w3 / count);
        atomicAdd(gin + yh * width + xh, grad_bin * w4 / count);
      }
    }
  }
}

}  // namespace

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                             int64_t pooled_h, int64_t pooled_w, int64_t sampling_ratio, bool aligned) {
  c10::cuda::CUDAGuard guard(input.device());
  const at::Tensor in = input.contiguous();
  const at::Tensor r = rois.contiguous();
  at::Tensor output = at::zeros({r.size(0), in.size(1), pooled_h, pooled_w}, in.options());
  const int64_t total = output.numel();
  if (total == 0) return output;
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "roi_align_forward_cuda", [&] {
    forward_kernel<scalar_t><<<num_blocks(total), kThreads, 0, stream>>>(
        total, in.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), static_cast<scalar_t>(spatial_scale),
        static_cast<int>(in.size(1)), static_cast<int>(in.size(2)), static_cast<int>(in.size(3)),
        static_cast<int>(pooled_h), static_cast<int>(pooled_w), static_cast<int>(sampling_ratio), aligned,
        output.data_ptr<scalar_t>());
  });
  AT_CUDA_CHECK(cudaGetLastError());
  return output;
}

at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois, double spatial_scale,
                              int64_t pooled_h, int64_t pooled_w, int64_t batch_size, int64_t channels,
                              int64_t height, int64_t width, int64_t sampling_ratio, bool aligned) {
  c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor go = grad_output.contiguous();
  const at::Tensor r = rois.contiguous();
  at::Tensor grad_input = at::zeros({batch_size, channels, height, width}, go.options());
  const int64_t total = go.numel();
  if (total == 0) return grad_input;
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_align_backward_cuda", [&] {
    backward_kernel<scalar_t><<<num_blocks(total), kThreads, 0, stream>>>(
        total, go.data_ptr<scalar_t>(), r.data_ptr<scalar_t>(), static_cast<scalar_t>(spatial_scale),
        static_cast<int>(channels), static_cast<int>(height), static_cast<int>(width),
        static_cast<int>(pooled_h), static_cast<int>(pooled_w), static_cast<int>(sampling_ratio), aligned,
        grad_input.data_ptr<scalar_t>());
  });
  AT_CUDA_CHECK(cudaGetLastError());
  return grad_input;
}

}  // namespace cppdet::ops::cuda
