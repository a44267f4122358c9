// /metrics in the Prometheus text format.
#include <gtest/gtest.h>

#include "cppdet/serving/metrics.h"

namespace cppdet::serving {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, CountsRequestsErrorsAndLatencyByEndpoint) {
  MetricsGauges gauges;
  gauges.queue_length = [] { return size_t{3}; };
  gauges.images_running = [] { return size_t{1}; };
  gauges.queue_capacity = 32;
  gauges.workers = 2;
  Metrics m(gauges);
  m.record_request("/predictions/tiny", 200, 0.02);
  m.record_request("/predictions/tiny", 200, 0.3);
  m.record_request("/predictions/other", 404, 0.001);
  m.record_request("/ping", 200, 0.0001);
  m.record_request("/no/such/thing", 404, 0.0001);
  m.record_batch(4);
  const std::string text = m.render();
  EXPECT_TRUE(has_line(text, "cppdet_requests_total{endpoint=\"predictions\",code=\"200\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_requests_total{endpoint=\"predictions\",code=\"404\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_requests_total{endpoint=\"other\",code=\"404\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_errors_total{endpoint=\"predictions\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_errors_total{endpoint=\"ping\"} 0")) << text;
  // Cumulative buckets: 0.001 <= 0.005; 0.02 <= 0.025; 0.3 <= 0.5.
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_bucket{endpoint=\"predictions\",le=\"0.005\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_bucket{endpoint=\"predictions\",le=\"0.025\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_bucket{endpoint=\"predictions\",le=\"0.25\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_bucket{endpoint=\"predictions\",le=\"0.5\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_bucket{endpoint=\"predictions\",le=\"+Inf\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_count{endpoint=\"predictions\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_request_duration_seconds_sum{endpoint=\"predictions\"} 0.321")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_queue_length 3")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_queue_capacity 32")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_images_running 1")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_workers 2")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_inference_batches_total 1")) << text;
  EXPECT_TRUE(has_line(text, "cppdet_inference_images_total 4")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE cppdet_request_duration_seconds histogram")) << text;
}

TEST(Metrics, MapsPathsToABoundedSetOfEndpoints) {
  EXPECT_EQ(Metrics::endpoint_of("/predictions/x"), "predictions");
  EXPECT_EQ(Metrics::endpoint_of("/models"), "models");
  EXPECT_EQ(Metrics::endpoint_of("/models/x"), "models");
  EXPECT_EQ(Metrics::endpoint_of("/ping"), "ping");
  EXPECT_EQ(Metrics::endpoint_of("/metrics"), "metrics");
  EXPECT_EQ(Metrics::endpoint_of("/pingx"), "other");
  EXPECT_EQ(Metrics::endpoint_of(""), "other");
}

}  // namespace
}  // namespace cppdet::serving
