#pragma once
// The training/validation data loader (torch's DataLoader as mmdet builds it): a sampler's
// epoch order cut into batches of samples_per_gpu, each batch loaded by one of
// workers_per_gpu threads (0: in the calling thread) and collated into a DetBatch. Batches
// come out in sampler order whatever the thread timing; at most `prefetch_batches` batches
// are loaded ahead of the consumer.
//
//   data::DataLoader loader(dataset, sampler, {.samples_per_gpu = 2, .workers_per_gpu = 2});
//   auto it = loader.epoch(epoch);
//   while (std::optional<DetBatch> batch = it->next()) { ... }
//
// An exception thrown while loading is rethrown by next() for the batch it belongs to, with
// the dataset index in the message ("data loader: dataset index 17 (epoch 0, batch 8): ...");
// UserError stays UserError. Destroying the epoch stops and joins its threads.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cppdet/data/loader/indexed_dataset.h"
#include "cppdet/data/samplers/sampler.h"
#include "cppdet/structures/det_sample.h"

namespace cppdet::data {

struct DataLoaderOptions {
  int64_t samples_per_gpu = 1;
  int64_t workers_per_gpu = 0;
  int64_t prefetch_batches = 0;  // 0: 2 per worker (torch's prefetch_factor)
  uint64_t seed = 0;             // mixed into every sample's rng_seed
};

// The rng_seed a dataset receives for the sample at `position` of epoch `epoch`.
uint64_t sample_rng_seed(uint64_t seed, int64_t epoch, size_t position);

class DataLoader {
 public:
  class Epoch;

  DataLoader(std::shared_ptr<const IndexedDataset> dataset, std::shared_ptr<const Sampler> sampler,
             DataLoaderOptions options);

  // Batches per epoch (the last one may be smaller; drop_last is false as in mmdet).
  size_t size() const;
  const DataLoaderOptions& options() const { return options_; }
  const IndexedDataset& dataset() const { return *dataset_; }

  // Iterates epoch `epoch`, starting at batch `first_batch` (a resume inside an epoch skips
  // the batches already trained on without loading them).
  std::unique_ptr<Epoch> epoch(int64_t epoch, size_t first_batch = 0) const;

 private:
  std::shared_ptr<const IndexedDataset> dataset_;
  std::shared_ptr<const Sampler> sampler_;
  DataLoaderOptions options_;
};

class DataLoader::Epoch {
 public:
  ~Epoch();
  Epoch(const Epoch&) = delete;
  Epoch& operator=(const Epoch&) = delete;

  // The next batch in order, nullopt after the last one.
  std::optional<DetBatch> next();
  // Index of the batch the next call returns.
  size_t position() const { return next_to_yield_; }
  size_t size() const { return batches_.size(); }

 private:
  friend class DataLoader;
  Epoch(const DataLoader& loader, int64_t epoch, size_t first_batch);
  DetBatch load_batch(size_t batch) const;  // throws with the dataset index in the message
  void worker_loop();

  struct Result {
    std::optional<DetBatch> batch;
    std::exception_ptr error;
  };

  const DataLoader& loader_;
  int64_t epoch_;
  std::vector<std::vector<size_t>> batches_;  // dataset indices of each batch
  size_t capacity_ = 1;
  size_t next_to_load_ = 0;
  size_t next_to_yield_ = 0;
  bool stop_ = false;
  std::exception_ptr failure_;  // the error that stopped this epoch; rethrown by later next() calls
  std::map<size_t, Result> ready_;
  std::mutex mutex_;
  std::condition_variable ready_cv_;
  std::condition_variable space_cv_;
  std::vector<std::thread> workers_;
};

}  // namespace cppdet::data
