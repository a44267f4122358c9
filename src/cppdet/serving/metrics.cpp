#include "cppdet/serving/metrics.h"

#include <cstdio>

namespace cppdet::serving {
namespace {

std::string number(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string Metrics::endpoint_of(const std::string& path) {
  if (path.rfind("/predictions/", 0) == 0) return "predictions";
  if (path == "/models" || path.rfind("/models/", 0) == 0) return "models";
  if (path == "/ping") return "ping";
  if (path == "/metrics") return "metrics";
  return "other";
}

void Metrics::record_request(const std::string& path, int status, double seconds) {
  const std::string endpoint = endpoint_of(path);
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
  Histogram& h = latency_[endpoint];
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  if (bucket < kLatencyBuckets.size()) ++h.counts[bucket];
  ++h.count;
  h.sum += seconds;
}

void Metrics::record_batch(size_t images) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++batches_;
  batched_images_ += images;
}

std::string Metrics::render() const {
  // The gauges first: they lock the pool, which never waits for this mutex while holding its own.
  const size_t queue_length = gauges_.queue_length ? gauges_.queue_length() : 0;
  const size_t images_running = gauges_.images_running ? gauges_.images_running() : 0;
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  family(out, "cppdet_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
  for (const auto& [key, n] : requests_)
    out += "cppdet_requests_total{endpoint=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  family(out, "cppdet_request_errors_total", "counter", "HTTP requests answered with a 4xx or 5xx status, by endpoint.");
  std::map<std::string, uint64_t> errors;
  for (const auto& [key, n] : requests_) errors[key.first] += key.second >= 400 ? n : 0;
  for (const auto& [endpoint, n] : errors)
    out += "cppdet_request_errors_total{endpoint=\"" + endpoint + "\"} " + std::to_string(n) + "\n";
  family(out, "cppdet_request_duration_seconds", "histogram",
         "Time from reading a request to writing its response, by endpoint.");
  for (const auto& [endpoint, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
      cumulative += h.counts[b];
      out += "cppdet_request_duration_seconds_bucket{endpoint=\"" + endpoint + "\",le=\"" + number(kLatencyBuckets[b]) +
             "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "cppdet_request_duration_seconds_bucket{endpoint=\"" + endpoint + "\",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "cppdet_request_duration_seconds_sum{endpoint=\"" + endpoint + "\"} " + number(h.sum) + "\n";
    out += "cppdet_request_duration_seconds_count{endpoint=\"" + endpoint + "\"} " + std::to_string(h.count) + "\n";
  }
  family(out, "cppdet_queue_length", "gauge", "Images waiting for an inference worker.");
  out += "cppdet_queue_length " + std::to_string(queue_length) + "\n";
  family(out, "cppdet_queue_capacity", "gauge", "Images the queue holds at most (more are answered 503).");
  out += "cppdet_queue_capacity " + std::to_string(gauges_.queue_capacity) + "\n";
  family(out, "cppdet_images_running", "gauge", "Images in a worker's forward pass now.");
  out += "cppdet_images_running " + std::to_string(images_running) + "\n";
  family(out, "cppdet_workers", "gauge", "Inference workers (one model replica each).");
  out += "cppdet_workers " + std::to_string(gauges_.workers) + "\n";
  family(out, "cppdet_inference_batches_total", "counter", "Forward passes run by the workers.");
  out += "cppdet_inference_batches_total " + std::to_string(batches_) + "\n";
  family(out, "cppdet_inference_images_total", "counter", "Images run through the model.");
  out += "cppdet_inference_images_total " + std::to_string(batched_images_) + "\n";
  return out;
}

}  // namespace cppdet::serving
