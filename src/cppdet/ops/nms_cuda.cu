// CUDA NMS (compiled only in CUDA builds): the score-sorted boxes are compared pairwise in
// 64-wide tiles into a suppression bitmask on the GPU; the greedy pass over the bitmask runs
// on the host, as in mmcv's and torchvision's CUDA kernels. Same IoU formula as the CPU op.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <vector>

#include "cppdet/ops/cuda_kernels.h"

namespace cppdet::ops::cuda {
namespace {

constexpr int kThreadsPerBlock = sizeof(unsigned long long) * 8;

template <typename T>
__device__ inline bool iou_above(const T* a, const T* b, T threshold, T offset) {
  const T left = max(a[0], b[0]), right = min(a[2], b[2]);
  const T top = max(a[1], b[1]), bottom = min(a[3], b[3]);
  const T width = max(right - left + offset, (T)0), height = max(bottom - top + offset, (T)0);
  const T inter = width * height;
  const T area_a = (a[2] - a[0] + offset) * (a[3] - a[1] + offset);
  const T area_b = (b[2] - b[0] + offset) * (b[3] - b[1] + offset);
  return inter / (area_a + area_b - inter) > threshold;
}

template <typename T>
__global__ void nms_mask_kernel(int n_boxes, T threshold, T offset, const T* boxes,
                                unsigned long long* mask) {
  const int row_start = blockIdx.y, col_start = blockIdx.x;
  if (row_start > col_start) return;
  const int row_size = min(n_boxes - row_start * kThreadsPerBlock, kThreadsPerBlock);
  const int col_size = min(n_boxes - col_start * kThreadsPerBlock, kThreadsPerBlock);

  __shared__ T block_boxes[kThreadsPerBlock * 4];
  if (threadIdx.x < col_size) {
    for (int k = 0; k < 4; ++k)
      block_boxes[threadIdx.x * 4 + k] = boxes[(kThreadsPerBlock * col_start + threadIdx.x) * 4 + k];
  }
  __syncthreads();

  if (threadIdx.x < row_size) {
    const int cur = kThreadsPerBlock * row_start + threadIdx.x;
    const T* cur_box = boxes + cur * 4;
    unsigned long long bits = 0;
    const int start = row_start == col_start ? threadIdx.x + 1 : 0;
    for (int i = start; i < col_size; ++i)
      if (iou_above<T>(cur_box, block_boxes + i * 4, threshold, offset)) bits |= 1ULL << i;
    const int col_blocks = (n_boxes + kThreadsPerBlock - 1) / kThreadsPerBlock;
    mask[cur * col_blocks + col_start] = bits;
  }
}

}  // namespace

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold, int64_t offset) {
  c10::cuda::CUDAGuard guard(boxes.device());
  const at::Tensor order = std::get<1>(scores.sort(0, /*descending=*/true));
  const at::Tensor sorted = boxes.index_select(0, order).contiguous();
  const int n = static_cast<int>(boxes.size(0));
  const int col_blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  at::Tensor mask = at::empty({n * col_blocks}, boxes.options().dtype(at::kLong));
  const dim3 blocks(col_blocks, col_blocks);
  const dim3 threads(kThreadsPerBlock);
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "nms_cuda", [&] {
    nms_mask_kernel<scalar_t><<<blocks, threads, 0, stream>>>(
        n, static_cast<scalar_t>(iou_threshold), static_cast<scalar_t>(offset),
        sorted.data_ptr<scalar_t>(), reinterpret_cast<unsigned long long*>(mask.data_ptr<int64_t>()));
  });
  AT_CUDA_CHECK(cudaGetLastError());

  const at::Tensor mask_cpu = mask.to(at::kCPU);
  const auto* mask_host = reinterpret_cast<const unsigned long long*>(mask_cpu.data_ptr<int64_t>());
  std::vector<unsigned long long> removed(col_blocks, 0);
  at::Tensor keep = at::empty({n}, boxes.options().dtype(at::kLong).device(at::kCPU));
  int64_t* keep_ptr = keep.data_ptr<int64_t>();
  int64_t num_keep = 0;
  for (int i = 0; i < n; ++i) {
    const int block = i / kThreadsPerBlock, bit = i % kThreadsPerBlock;
    if (removed[block] & (1ULL << bit)) continue;
    keep_ptr[num_keep++] = i;
    const unsigned long long* row = mask_host + i * col_blocks;
    for (int j = block; j < col_blocks; ++j) removed[j] |= row[j];
  }
  return order.index_select(0, keep.narrow(0, 0, num_keep).to(order.device()));
}

}  // namespace cppdet::ops::cuda
