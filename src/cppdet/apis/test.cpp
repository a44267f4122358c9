#include "cppdet/apis/test.h"

#include "cppdet/core/error.h"
#include "cppdet/data/samplers/distributed_sampler.h"
#include "cppdet/distributed/process_group.h"

namespace cppdet::apis {

std::vector<size_t> test_indices(size_t dataset_size, const distributed::ProcessGroup* group) {
  if (!group || group->world_size() == 1) {
    std::vector<size_t> all(dataset_size);
    for (size_t i = 0; i < dataset_size; ++i) all[i] = i;
    return all;
  }
  return data::DistributedSampler(dataset_size, group->world_size(), group->rank(), /*shuffle=*/false).indices(0);
}

std::vector<data::ImageDetections> collect_results(std::vector<data::ImageDetections> part, size_t dataset_size,
                                                   distributed::ProcessGroup* group) {
  if (!group || group->world_size() == 1) return part;
  const std::vector<std::string> parts = group->all_gather_bytes(data::encode_detection_list(part));
  if (!group->is_master()) return {};
  std::vector<std::vector<data::ImageDetections>> decoded;
  for (const std::string& bytes : parts) decoded.push_back(data::decode_detection_list(bytes));
  // Rank r's k-th result is dataset image k * R + r: interleave, then cut the padding.
  std::vector<data::ImageDetections> ordered;
  ordered.reserve(dataset_size);
  for (size_t k = 0; ordered.size() < dataset_size; ++k) {
    for (size_t r = 0; r < decoded.size() && ordered.size() < dataset_size; ++r) {
      if (k >= decoded[r].size())
        throw distributed::DistributedError("collect_results: rank " + std::to_string(r) + " sent " +
                                            std::to_string(decoded[r].size()) + " results, fewer than its share");
      ordered.push_back(std::move(decoded[r][k]));
    }
  }
  return ordered;
}

}  // namespace cppdet::apis
