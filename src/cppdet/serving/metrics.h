#pragma once
// The server's counters, rendered for GET /metrics in the Prometheus text exposition format
// (version 0.0.4). Requests are counted by endpoint ("predictions", "ping", "models",
// "metrics", "other") and status code; latency is a histogram per endpoint.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace cppdet::serving {

// The live values that /metrics reads when it renders.
struct MetricsGauges {
  std::function<size_t()> queue_length;    // images waiting for a worker
  std::function<size_t()> images_running;  // images in a worker's forward pass now
  size_t queue_capacity = 0;
  size_t workers = 0;
};

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram's buckets, +Inf aside.
  static constexpr std::array<double, 12> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

  explicit Metrics(MetricsGauges gauges) : gauges_(std::move(gauges)) {}

  // One answered request: `path` is the request path (mapped to its endpoint).
  void record_request(const std::string& path, int status, double seconds);
  // One forward pass of `images` images.
  void record_batch(size_t images);

  std::string render() const;

  // "/predictions/x" -> "predictions", "/ping" -> "ping", "/models[/x]" -> "models",
  // "/metrics" -> "metrics", anything else -> "other" (a bounded set of label values).
  static std::string endpoint_of(const std::string& path);

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };

  MetricsGauges gauges_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (endpoint, status) -> count
  std::map<std::string, Histogram> latency_;                  // endpoint -> histogram
  uint64_t batches_ = 0;
  uint64_t batched_images_ = 0;
};

}  // namespace cppdet::serving
