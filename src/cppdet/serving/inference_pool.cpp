#include "cppdet/serving/inference_pool.h"

#include <ATen/Parallel.h>

#include <map>
#include <utility>

#include "cppdet/core/error.h"
#include "cppdet/serving/request_error.h"

namespace cppdet::serving {

struct InferencePool::Job {
  UploadedImage image;
  std::promise<ImageOutcome> promise;
};

namespace {

ImageOutcome failure_of(const std::exception_ptr& error) {
  ImageOutcome out;
  try {
    std::rethrow_exception(error);
  } catch (const RequestError& e) {
    out.status = e.status();
    out.error = e.what();
  } catch (const UserError& e) {
    out.status = 422;
    out.error = std::string("the model cannot process this image: ") + e.what();
  } catch (const std::exception& e) {
    out.status = 500;
    out.error = std::string("inference failed: ") + e.what();
  } catch (...) {
    out.status = 500;
    out.error = "inference failed";
  }
  return out;
}

}  // namespace

InferencePool::InferencePool(std::vector<apis::InferenceModel> replicas, PoolOptions options,
                             std::function<void(size_t)> on_batch)
    : replicas_(std::move(replicas)), options_(options), on_batch_(std::move(on_batch)) {
  if (replicas_.empty()) throw UserError("the inference pool needs at least one worker");
  if (options_.max_batch < 1) throw UserError("--max-batch must be at least 1");
  if (options_.queue_capacity < 1) throw UserError("--queue-size must be at least 1");
  for (size_t w = 0; w < replicas_.size(); ++w) threads_.emplace_back([this, w] { work(w); });
}

InferencePool::~InferencePool() { shutdown(); }

std::optional<std::vector<std::future<ImageOutcome>>> InferencePool::submit(std::vector<UploadedImage> images) {
  std::vector<std::future<ImageOutcome>> futures;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() + images.size() > options_.queue_capacity) return std::nullopt;
    for (UploadedImage& image : images) {
      auto job = std::make_unique<Job>();
      job->image = std::move(image);
      futures.push_back(job->promise.get_future());
      queue_.push_back(std::move(job));
    }
  }
  wake_.notify_all();
  return futures;
}

size_t InferencePool::queue_length() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

size_t InferencePool::images_running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

void InferencePool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

InferencePool::Batch InferencePool::next_batch(std::unique_lock<std::mutex>& lock) {
  wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
  Batch batch;
  if (queue_.empty()) return batch;  // stopping, nothing left
  batch.push_back(std::move(queue_.front()));
  queue_.pop_front();
  const ImageHeader& first = batch.front()->image.header;
  const size_t max_batch = static_cast<size_t>(options_.max_batch);
  auto take_same_size = [&] {
    for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max_batch;) {
      const ImageHeader& h = (*it)->image.header;
      if (h.width == first.width && h.height == first.height) {
        batch.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + options_.max_delay;
  while (batch.size() < max_batch) {
    take_same_size();
    if (batch.size() >= max_batch || stopping_) break;
    if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) {
      take_same_size();
      break;
    }
  }
  return batch;
}

void InferencePool::work(size_t worker) {
  at::set_num_threads(options_.threads_per_worker);  // this thread's OpenMP team size
  for (;;) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      batch = next_batch(lock);
      if (batch.empty()) return;
      running_ += batch.size();
    }
    const size_t n = batch.size();
    run(replicas_[worker], std::move(batch));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ -= n;
    }
  }
}

void InferencePool::run(const apis::InferenceModel& model, Batch batch) {
  // Decode; a failure answers its own image only. Then one forward pass per decoded size (the
  // stored size can hide an EXIF rotation).
  std::map<std::pair<int, int>, std::pair<Batch, std::vector<cv::Mat>>> by_size;
  for (std::unique_ptr<Job>& job : batch) {
    try {
      cv::Mat img = decode_image(job->image.bytes);
      auto& group = by_size[{img.rows, img.cols}];
      group.first.push_back(std::move(job));
      group.second.push_back(std::move(img));
    } catch (...) {
      job->promise.set_value(failure_of(std::current_exception()));
    }
  }
  for (auto& [size, group] : by_size) {
    auto& [jobs, images] = group;
    std::vector<DetResult> results;
    std::exception_ptr error;
    try {
      results = apis::inference_detector(model, images);
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) {
      if (on_batch_) on_batch_(images.size());
      for (size_t i = 0; i < jobs.size(); ++i) {
        ImageOutcome out;
        out.result = std::move(results[i]);
        jobs[i]->promise.set_value(std::move(out));
      }
    } else if (jobs.size() == 1) {
      jobs[0]->promise.set_value(failure_of(error));
    } else {
      for (size_t i = 0; i < jobs.size(); ++i) {  // the image that fails fails alone
        ImageOutcome out;
        try {
          out.result = apis::inference_detector(model, images[i]);
          if (on_batch_) on_batch_(1);
        } catch (...) {
          out = failure_of(std::current_exception());
        }
        jobs[i]->promise.set_value(std::move(out));
      }
    }
  }
}

}  // namespace cppdet::serving
