#include "cppdet/data/loader/data_loader.h"

#include <stdexcept>
#include <string>

#include "cppdet/core/error.h"
#include "cppdet/data/loader/collate.h"

namespace cppdet::data {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t sample_rng_seed(uint64_t seed, int64_t epoch, size_t position) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(position));
}

DataLoader::DataLoader(std::shared_ptr<const IndexedDataset> dataset, std::shared_ptr<const Sampler> sampler,
                       DataLoaderOptions options)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), options_(options) {
  if (!dataset_ || !sampler_) throw UserError("DataLoader: dataset and sampler are required");
  if (options_.samples_per_gpu <= 0) throw UserError("data.samples_per_gpu: must be positive");
  if (options_.workers_per_gpu < 0) throw UserError("data.workers_per_gpu: must not be negative");
}

size_t DataLoader::size() const {
  const size_t spg = static_cast<size_t>(options_.samples_per_gpu);
  return (sampler_->size() + spg - 1) / spg;
}

std::unique_ptr<DataLoader::Epoch> DataLoader::epoch(int64_t epoch, size_t first_batch) const {
  return std::unique_ptr<Epoch>(new Epoch(*this, epoch, first_batch));
}

DataLoader::Epoch::Epoch(const DataLoader& loader, int64_t epoch, size_t first_batch)
    : loader_(loader), epoch_(epoch) {
  const std::vector<size_t> order = loader.sampler_->indices(epoch);
  const size_t spg = static_cast<size_t>(loader.options_.samples_per_gpu);
  for (size_t start = 0; start < order.size(); start += spg)
    batches_.emplace_back(order.begin() + start, order.begin() + std::min(order.size(), start + spg));
  for (const auto& b : batches_)
    for (size_t idx : b)
      if (idx >= loader.dataset_->size())
        throw UserError("data loader: sampler index " + std::to_string(idx) + " is outside the dataset (size " +
                        std::to_string(loader.dataset_->size()) + ")");
  next_to_load_ = next_to_yield_ = std::min(first_batch, batches_.size());
  const int64_t workers = loader.options_.workers_per_gpu;
  if (workers > 0) {
    const int64_t prefetch = loader.options_.prefetch_batches > 0 ? loader.options_.prefetch_batches : 2 * workers;
    capacity_ = static_cast<size_t>(std::max<int64_t>(prefetch, 1));
    for (int64_t w = 0; w < workers; ++w) workers_.emplace_back([this] { worker_loop(); });
  }
}

DataLoader::Epoch::~Epoch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

DetBatch DataLoader::Epoch::load_batch(size_t batch) const {
  const size_t spg = static_cast<size_t>(loader_.options_.samples_per_gpu);
  std::vector<Sample> samples;
  samples.reserve(batches_[batch].size());
  for (size_t j = 0; j < batches_[batch].size(); ++j) {
    const size_t index = batches_[batch][j];
    const std::string where = "data loader: dataset index " + std::to_string(index) + " (epoch " +
                              std::to_string(epoch_) + ", batch " + std::to_string(batch) + "): ";
    try {
      samples.push_back(loader_.dataset_->get(index, sample_rng_seed(loader_.options_.seed, epoch_, batch * spg + j)));
    } catch (const UserError& e) {
      throw UserError(where + e.what());
    } catch (const std::exception& e) {
      throw std::runtime_error(where + e.what());
    }
  }
  return collate(std::move(samples));
}

void DataLoader::Epoch::worker_loop() {
  while (true) {
    size_t batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_cv_.wait(lock, [&] {
        return stop_ || next_to_load_ >= batches_.size() || next_to_load_ < next_to_yield_ + capacity_;
      });
      if (stop_ || next_to_load_ >= batches_.size()) return;
      batch = next_to_load_++;
    }
    Result result;
    try {
      result.batch = load_batch(batch);
    } catch (...) {
      result.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(batch, std::move(result));
    }
    ready_cv_.notify_all();
  }
}

std::optional<DetBatch> DataLoader::Epoch::next() {
  if (failure_) std::rethrow_exception(failure_);
  if (next_to_yield_ >= batches_.size()) return std::nullopt;
  if (workers_.empty()) {
    try {
      return load_batch(next_to_yield_++);
    } catch (...) {
      failure_ = std::current_exception();
      throw;
    }
  }
  Result result;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_to_yield_) > 0; });
    auto it = ready_.find(next_to_yield_);
    result = std::move(it->second);
    ready_.erase(it);
    ++next_to_yield_;
    if (result.error) {
      stop_ = true;  // no more loading after a failure
      failure_ = result.error;
    }
  }
  space_cv_.notify_all();
  if (result.error) std::rethrow_exception(result.error);
  return std::move(result.batch);
}

}  // namespace cppdet::data
