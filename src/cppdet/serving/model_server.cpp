#include "cppdet/serving/model_server.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <exception>
#include <future>
#include <optional>

#include "cppdet/core/error.h"
#include "cppdet/serving/connection_server.h"
#include "cppdet/serving/log.h"
#include "cppdet/serving/metrics.h"
#include "cppdet/serving/predictions_json.h"
#include "cppdet/serving/request_error.h"

namespace cppdet::serving {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(Response& res, int status, const std::string& message) { send_json(res, status, {{"error", message}}); }

// Whether the request announces a body (left unread when the request is refused early).
bool announces_body(const Request& req) {
  if (req.has_header("Transfer-Encoding")) return true;
  const std::string length = req.get_header_value("Content-Length");
  return !length.empty() && length != "0";
}

bool is_chunked(const Request& req) {
  std::string te = req.get_header_value("Transfer-Encoding");
  for (char& c : te) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return te.find("chunked") != std::string::npos;
}

// Content-Length as a number; std::nullopt when it is not one.
std::optional<uint64_t> content_length(const Request& req) {
  const std::string text = req.get_header_value("Content-Length");
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

enum class Endpoint { kPing, kModels, kModel, kMetrics, kPredictions, kUnknown };

struct Route {
  Endpoint endpoint = Endpoint::kUnknown;
  std::string model;  // the <model> segment of /models/<model> and /predictions/<model>
};

Route route_of(const std::string& path) {
  if (path == "/ping") return {Endpoint::kPing, ""};
  if (path == "/metrics") return {Endpoint::kMetrics, ""};
  if (path == "/models") return {Endpoint::kModels, ""};
  for (const auto& [prefix, endpoint] : {std::pair<std::string, Endpoint>{"/models/", Endpoint::kModel},
                                         std::pair<std::string, Endpoint>{"/predictions/", Endpoint::kPredictions}}) {
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() && path.find('/', prefix.size()) == std::string::npos)
      return {endpoint, path.substr(prefix.size())};
  }
  return {};
}

std::string megabytes(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g MB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

struct ModelServer::Impl {
  // One image of a request: its multipart field name ("" for a raw body) and bytes.
  struct Part {
    std::string name;
    std::string bytes;
  };

  ServeOptions options;
  std::vector<std::string> class_names;
  std::string checkpoint, device;
  Metrics metrics;
  InferencePool pool;
  ConnectionServer http;

  Impl(std::vector<apis::InferenceModel> replicas, ServeOptions opts)
      : options(std::move(opts)),
        class_names(replicas.at(0).class_names),
        checkpoint(replicas.at(0).checkpoint),
        device(replicas.at(0).device),
        metrics(MetricsGauges{[this] { return pool.queue_length(); }, [this] { return pool.images_running(); },
                              options.pool.queue_capacity, replicas.size()}),
        pool(std::move(replicas), options.pool, [this](size_t images) { metrics.record_batch(images); }),
        http(connection_limits(options, pool.workers()), [this] { refused(); }) {
    http.set_pre_routing_handler([this](const Request& req, Response& res) { return screen(req, res); });
    http.set_expect_100_continue_handler([this](const Request& req, Response& res) {
      return screen(req, res) == httplib::Server::HandlerResponse::Handled ? res.status : 100;
    });
    http.Get("/ping", [](const Request&, Response& res) { send_json(res, 200, {{"status", "Healthy"}}); });
    http.Get("/metrics", [this](const Request&, Response& res) {
      res.status = 200;
      res.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    http.Get("/models", [this](const Request&, Response& res) {
      send_json(res, 200, {{"models", json::array({{{"modelName", options.model_name}, {"modelUrl", checkpoint}}})}});
    });
    http.Get(R"(/models/([^/]+))", [this](const Request&, Response& res) { describe(res); });
    http.Post(R"(/predictions/([^/]+))",
              [this](const Request& req, Response& res, const httplib::ContentReader& read) { predict(req, res, read); });
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const Request& req, Response& res) { return fill_error(req, res); }));
    http.set_exception_handler([](const Request&, Response& res, std::exception_ptr error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        send_error(res, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        send_error(res, 500, "internal error");
      }
    });
    http.set_logger([this](const Request& req, const Response& res) { log_request(req, res); });
  }

  // Every image the queue and the workers hold has a connection thread waiting for it, and a few
  // more threads answer /ping, /metrics and the 503s of a full queue meanwhile.
  static ConnectionLimits connection_limits(const ServeOptions& o, size_t workers) {
    ConnectionLimits limits;
    limits.threads = o.pool.queue_capacity + workers * static_cast<size_t>(o.pool.max_batch) + 8;
    limits.pending = limits.threads;
    limits.body_bytes = o.max_body_bytes + 64 * 1024;  // multipart / chunked framing
    return limits;
  }

  // Refuses, before its body is read, a request the server cannot answer with 200.
  httplib::Server::HandlerResponse screen(const Request& req, Response& res) {
    auto refuse = [&](int status, const std::string& message) {
      send_error(res, status, message);
      if (announces_body(req)) ConnectionServer::close_after_response();
      return httplib::Server::HandlerResponse::Handled;
    };
    const Route route = route_of(req.path);
    if (route.endpoint == Endpoint::kUnknown)
      return refuse(404, "no such endpoint: " + req.path + " (this server has /predictions/" + options.model_name +
                             ", /ping, /models and /metrics)");
    const bool predictions = route.endpoint == Endpoint::kPredictions;
    const bool allowed = predictions ? req.method == "POST" : (req.method == "GET" || req.method == "HEAD");
    if (!allowed) {
      res.set_header("Allow", predictions ? "POST" : "GET, HEAD");
      return refuse(405, "method " + req.method + " is not allowed on " + req.path + " (use " +
                             (predictions ? "POST" : "GET") + ")");
    }
    if (!route.model.empty() && route.model != options.model_name)
      return refuse(404, "model '" + route.model + "' is not served here (this server serves '" + options.model_name + "')");
    if (predictions && !is_chunked(req)) {
      if (!req.has_header("Content-Length"))
        return refuse(411, "Content-Length required: send the image bytes as the request body");
      const std::optional<uint64_t> length = content_length(req);
      if (!length) return refuse(400, "invalid Content-Length: '" + req.get_header_value("Content-Length") + "'");
      if (*length > options.max_body_bytes)
        return refuse(413, "request body of " + megabytes(*length) + " is over the limit of " +
                               megabytes(options.max_body_bytes) + " (--max-body-mb)");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void describe(Response& res) {
    const PoolOptions& p = options.pool;
    send_json(res, 200,
              json::array({{{"modelName", options.model_name},
                            {"modelUrl", checkpoint},
                            {"config", options.config_path},
                            {"device", device},
                            {"workers", pool.workers()},
                            {"batchSize", p.max_batch},
                            {"maxBatchDelay", p.max_delay.count()},
                            {"queueSize", p.queue_capacity},
                            {"scoreThreshold", options.score_thr},
                            {"classes", class_names}}}));
  }

  void predict(const Request& req, Response& res, const httplib::ContentReader& read) {
    std::vector<Part> parts;
    bool too_many = false;
    bool ok;
    if (req.is_multipart_form_data()) {
      ok = read(
          [&](const httplib::MultipartFormData& field) {
            if (parts.size() == options.max_images_per_request) {
              too_many = true;
              return false;
            }
            parts.push_back({field.name.empty() ? field.filename : field.name, ""});
            return true;
          },
          [&](const char* data, size_t n) {
            parts.back().bytes.append(data, n);
            return true;
          });
    } else {
      parts.push_back({"", ""});
      ok = read([&](const char* data, size_t n) {
        parts.back().bytes.append(data, n);
        return true;
      });
    }
    if (!ok) {
      ConnectionServer::close_after_response();
      if (too_many)
        return send_error(res, 413, "more than " + std::to_string(options.max_images_per_request) +
                                        " images in one request");
      if (ConnectionServer::body_over_budget())
        return send_error(res, 413, "request body over the limit of " + megabytes(options.max_body_bytes) +
                                        " (--max-body-mb)");
      return send_error(res, 400, "cannot read the request body (malformed multipart data or the client stopped sending)");
    }
    if (parts.empty()) return send_error(res, 400, "the multipart form data holds no image");
    const bool multipart = req.is_multipart_form_data();
    auto name_of = [&](const Part& p) { return multipart ? "image '" + p.name + "': " : std::string(); };

    std::vector<UploadedImage> images;
    for (Part& part : parts) {
      try {
        const ImageHeader header = read_image_header(part.bytes, options.image_limits);
        images.push_back({std::move(part.bytes), header});
      } catch (const RequestError& e) {
        return send_error(res, e.status(), name_of(part) + e.what());
      }
    }
    std::optional<std::vector<std::future<ImageOutcome>>> futures = pool.submit(std::move(images));
    if (!futures) {
      res.set_header("Retry-After", "1");
      return send_error(res, 503, "server busy: the inference queue is full (" +
                                      std::to_string(options.pool.queue_capacity) + " images); retry later");
    }
    const bool with_masks = req.get_param_value("masks") == "1" || req.get_param_value("masks") == "true";
    nlohmann::ordered_json lists = nlohmann::ordered_json::array();
    std::optional<std::pair<int, std::string>> failure;
    for (size_t i = 0; i < futures->size(); ++i) {
      ImageOutcome out = (*futures)[i].get();  // every future is waited for: no work left behind
      if (out.status != 200) {
        if (!failure) failure = {{out.status, name_of(parts[i]) + out.error}};
        continue;
      }
      lists.push_back(predictions_json(out.result, class_names, options.score_thr, with_masks));
    }
    if (failure) return send_error(res, failure->first, failure->second);
    res.status = 200;
    res.set_content((parts.size() == 1 ? lists[0] : lists).dump(), "application/json");
  }

  // The {"error": ...} body of a response httplib produced itself (a malformed request line, a
  // body it could not read).
  httplib::Server::HandlerResponse fill_error(const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ConnectionServer::close_after_response();  // the request was not read to its end
    if (ConnectionServer::body_over_budget()) {
      send_error(res, 413, "request body over the limit of " + megabytes(options.max_body_bytes) + " (--max-body-mb)");
    } else {
      send_error(res, res.status, res.status == 400 ? "malformed HTTP request" : "the request cannot be served");
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  void log_request(const Request& req, const Response& res) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ConnectionServer::request_start()).count();
    metrics.record_request(req.path, res.status, seconds);
    server_log().info("{}:{} \"{} {}\" {} {:.1f} ms {} B", req.remote_addr, req.remote_port, req.method,
                      req.path.empty() ? "-" : req.path, res.status, seconds * 1e3, res.body.size());
  }

  void refused() {
    metrics.record_request("", 503, 0.0);
    const ConnectionLimits limits = connection_limits(options, pool.workers());
    server_log().warn("refused a connection: all {} connection threads busy and {} connections waiting",
                      limits.threads, limits.pending);
  }
};

ModelServer::ModelServer(std::vector<apis::InferenceModel> replicas, ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(replicas), std::move(options))) {}

ModelServer::~ModelServer() {
  impl_->http.begin_shutdown();
  impl_->pool.shutdown();
}

int ModelServer::bind() {
  const ServeOptions& o = impl_->options;
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0)
    throw UserError("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                    " (address in use, not an address of this machine, or a privileged port)");
  return port;
}

void ModelServer::serve() {
  impl_->http.listen_after_bind();
  impl_->pool.shutdown();
}

void ModelServer::stop() { impl_->http.begin_shutdown(); }

}  // namespace cppdet::serving
