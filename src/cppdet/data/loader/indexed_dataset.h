#pragma once
// What the data loader needs from a dataset (mmdet's CustomDataset as torch's DataLoader sees
// it): a size, a thread-safe get(i) that runs the pipeline, and the aspect-ratio group flag
// GroupSampler batches by.
#include <cstddef>
#include <cstdint>

#include "cppdet/data/transforms/sample.h"

namespace cppdet::data {

class IndexedDataset {
 public:
  virtual ~IndexedDataset() = default;

  virtual size_t size() const = 0;
  // The sample at `index` after the pipeline (`inputs` [3, H, W] float32, meta, gt_*).
  // Called concurrently from loader threads. `rng_seed` seeds the random transforms of this
  // draw; the loader derives it from (seed, epoch, position in the epoch), so the same run
  // sees the same random choices whatever the number of workers and after a resume.
  virtual Sample get(size_t index, uint64_t rng_seed) const = 0;
  // mmdet's dataset.flag: 1 when the image's width / height > 1, else 0.
  virtual uint8_t group_flag(size_t index) const { return 0; }
};

}  // namespace cppdet::data
