#pragma once
// The data-parallel part of mmdet.apis.multi_gpu_test: which images a process tests, and how
// the ranks' results come back together in dataset order.
//
//   const std::vector<size_t> mine = apis::test_indices(dataset.size(), group);
//   std::vector<data::ImageDetections> part;
//   for (size_t i : mine) part.push_back(...test image i...);
//   std::vector<data::ImageDetections> all = apis::collect_results(std::move(part), dataset.size(), group);
//   if (all.size() == dataset.size()) ...evaluate (rank 0, or the only process)...
#include <cstddef>
#include <vector>

#include "cppdet/data/datasets/image_detections.h"

namespace cppdet::distributed {
class ProcessGroup;
}

namespace cppdet::apis {

// All indices in one process (null group); in a group of R ranks, rank r's share
// r, r + R, r + 2R, ... of mmdet's DistributedSampler(shuffle=False), padded with the first
// images to ceil(n / R) per rank.
std::vector<size_t> test_indices(size_t dataset_size, const distributed::ProcessGroup* group);

// mmdet's collect_results_gpu: every rank's results for its test_indices (in that order)
// gathered through the process group; rank 0 receives all of them in dataset order (the
// padding dropped), the other ranks an empty list. Without a group, `part` as it is.
std::vector<data::ImageDetections> collect_results(std::vector<data::ImageDetections> part, size_t dataset_size,
                                                   distributed::ProcessGroup* group);

}  // namespace cppdet::apis
