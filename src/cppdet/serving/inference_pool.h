#pragma once
// A fixed pool of inference workers behind a bounded queue. Each worker owns one model replica
// (forward passes never share a model, so nothing is locked around them) and runs with its
// share of LibTorch's intra-op threads. A worker takes the oldest queued image and, with
// max_batch > 1, up to max_batch - 1 more of the same stored size, waiting at most max_delay
// for them; images of one size go through the test pipeline to the same padded shape, so a
// batch computes what each image alone would (images of another size wait for the next batch).
// An image that fails (corrupt data, an error in the model) fails alone: a batch that throws is
// re-run one image at a time.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cppdet/apis/inference.h"
#include "cppdet/serving/encoded_image.h"

namespace cppdet::serving {

struct PoolOptions {
  int max_batch = 1;                       // images per forward pass, at most
  std::chrono::milliseconds max_delay{0};  // how long a worker waits to fill a batch
  size_t queue_capacity = 32;              // images waiting for a worker, at most
  int threads_per_worker = 1;              // LibTorch intra-op threads of each worker
};

// One uploaded image whose header passed read_image_header.
struct UploadedImage {
  std::string bytes;
  ImageHeader header;
};

// What a worker made of one image: its detections, or the HTTP status and message of its failure.
struct ImageOutcome {
  DetResult result;
  int status = 200;
  std::string error;
};

class InferencePool {
 public:
  // One worker thread per replica. `on_batch` (may be empty) hears the size of every forward pass.
  InferencePool(std::vector<apis::InferenceModel> replicas, PoolOptions options,
                std::function<void(size_t)> on_batch = {});
  ~InferencePool();
  InferencePool(const InferencePool&) = delete;
  InferencePool& operator=(const InferencePool&) = delete;

  // Queues the images of one request, all or none: std::nullopt when they do not fit in the
  // queue now or the pool is shutting down (the server answers 503).
  std::optional<std::vector<std::future<ImageOutcome>>> submit(std::vector<UploadedImage> images);

  size_t queue_length() const;
  size_t images_running() const;
  const PoolOptions& options() const { return options_; }
  size_t workers() const { return replicas_.size(); }

  // Takes no more images, lets the workers finish every queued one, joins them. Idempotent.
  void shutdown();

 private:
  struct Job;
  using Batch = std::vector<std::unique_ptr<Job>>;

  void work(size_t worker);
  Batch next_batch(std::unique_lock<std::mutex>& lock);
  void run(const apis::InferenceModel& model, Batch batch);

  std::vector<apis::InferenceModel> replicas_;
  PoolOptions options_;
  std::function<void(size_t)> on_batch_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cppdet::serving
