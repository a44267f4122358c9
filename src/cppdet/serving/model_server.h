#pragma once
// `cppdet serve`: one detector behind an HTTP API compatible with TorchServe's MMDetection
// handler (docs/serving.md):
//   POST /predictions/<model>   image bytes (JPEG/PNG) or multipart form data with images ->
//                               detections (predictions_json.h); ?masks=1 adds COCO RLE masks
//   GET  /ping                  {"status": "Healthy"}
//   GET  /models[/<model>]      the model served
//   GET  /metrics               Prometheus text (metrics.h)
// Errors are {"error": "..."} with a 4xx/5xx status; a full queue answers 503 with Retry-After.
// Every response is logged (method, path, status, latency) on the server log (log.h).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cppdet/apis/inference.h"
#include "cppdet/serving/encoded_image.h"
#include "cppdet/serving/inference_pool.h"

namespace cppdet::serving {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0: any free port (bind() says which)
  std::string model_name;               // the <model> of /predictions/<model>
  std::string config_path;              // shown by GET /models
  double score_thr = 0.3;               // detections with score >= score_thr are returned
  size_t max_body_bytes = 20u << 20;    // a larger request body is answered 413 unread
  size_t max_images_per_request = 16;   // multipart parts
  ImageLimits image_limits;
  PoolOptions pool;
};

class ModelServer {
 public:
  // One inference worker per replica (replicas of one model, on one device).
  ModelServer(std::vector<apis::InferenceModel> replicas, ServeOptions options);
  ~ModelServer();
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  // Binds host:port and returns the port bound; UserError when it cannot.
  int bind();
  // Answers requests until stop(); then answers every request already read, lets the workers
  // finish the queued images and returns.
  void serve();
  // Stops accepting connections (from any thread, e.g. a signal watcher); serve() returns once
  // the requests in progress are answered.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cppdet::serving
