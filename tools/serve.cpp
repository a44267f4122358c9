// `cppdet serve CONFIG CHECKPOINT`: the detector behind an HTTP API compatible with TorchServe's
// MMDetection handler (docs/serving.md). SIGTERM or SIGINT stops accepting connections,
// answers every request already received and exits 0.
#include <ATen/Parallel.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <regex>
#include <thread>

#include "command.h"
#include "cppdet/core/error.h"
#include "cppdet/serving/log.h"
#include "cppdet/serving/model_server.h"

namespace cppdet::tools {
namespace {

// SIGTERM and SIGINT become a byte on this pipe (whichever thread the signal lands on), read by
// the thread that stops the server; a 0 byte ends that thread when the server stops by itself.
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  const char byte = static_cast<char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(g_signal_pipe[1], &byte, 1);
}

void install_stop_signals() {
  if (g_signal_pipe[0] < 0 && ::pipe2(g_signal_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
}

// Reads the pipe until a stop signal (stops the server) or the 0 byte.
void watch_stop_signals(serving::ModelServer& server) {
  bool stopping = false;
  for (;;) {
    char byte = 0;
    const ssize_t n = ::read(g_signal_pipe[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 0) return;
    if (stopping) {
      serving::server_log().warn("{} again: still answering the requests in progress", strsignal(byte));
      continue;
    }
    stopping = true;
    serving::server_log().info("{}: no new connections; answering the requests in progress", strsignal(byte));
    server.stop();
  }
}

}  // namespace

void register_serve(CLI::App& app) {
  struct Options {
    std::string config, checkpoint, host = "127.0.0.1", device = "cpu", model_name;
    int port = 8080, workers = 1, max_batch = 1, max_delay_ms = 5, queue_size = 32, max_images = 16;
    double score_thr = 0.3, max_body_mb = 20, max_image_mpix = 40;
    std::vector<std::string> cfg_options;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "serve a detector over HTTP (TorchServe-compatible /predictions/<model>, /ping, /models, /metrics)");
  cmd->add_option("config", opts->config, "config file (.py, .json, .yaml)")->required();
  cmd->add_option("checkpoint", opts->checkpoint, "checkpoint file (.pth)")->required();
  cmd->add_option("--host", opts->host, "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)");
  cmd->add_option("--port", opts->port, "port to listen on (default 8080; 0 picks a free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("--device", opts->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_option("--workers", opts->workers, "inference workers, each with its own model replica (default 1)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--score-thr", opts->score_thr, "return detections with score >= this (default 0.3)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-batch", opts->max_batch, "images per forward pass, at most (default 1: no batching)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-delay-ms", opts->max_delay_ms,
                  "how long a worker waits to fill a batch, in milliseconds (default 5; with --max-batch > 1)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--queue-size", opts->queue_size, "images waiting for a worker, at most; more are answered 503 (default 32)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-body-mb", opts->max_body_mb, "largest request body in MiB; larger ones are answered 413 (default 20)")
      ->check(CLI::Range(0.001, 1024.0));
  cmd->add_option("--max-image-mpix", opts->max_image_mpix,
                  "largest image in megapixels, read from its header before decoding; larger ones are answered 413 "
                  "(default 40)")
      ->check(CLI::Range(0.001, 1000.0));
  cmd->add_option("--max-images", opts->max_images,
                  "images in one multipart request, at most (default 16, or --queue-size if smaller)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--model-name", opts->model_name, "the <model> of /predictions/<model> (default: the config file's stem)");
  add_cfg_options(*cmd, opts->cfg_options);
  cmd->callback([opts, cmd] {
    serving::ServeOptions o;
    o.host = opts->host;
    o.port = opts->port;
    o.model_name = opts->model_name.empty() ? std::filesystem::path(opts->config).stem().string() : opts->model_name;
    if (!std::regex_match(o.model_name, std::regex("[A-Za-z0-9_.-]+")))
      throw UserError("--model-name: '" + o.model_name + "' is not a usable name (letters, digits, '_', '.', '-')");
    o.config_path = opts->config;
    o.score_thr = opts->score_thr;
    o.max_body_bytes = static_cast<size_t>(std::llround(opts->max_body_mb * (1 << 20)));
    if (cmd->count("--max-images") == 0) opts->max_images = std::min(opts->max_images, opts->queue_size);
    o.max_images_per_request = static_cast<size_t>(opts->max_images);
    o.image_limits.max_pixels = std::llround(opts->max_image_mpix * 1e6);
    o.pool.max_batch = opts->max_batch;
    o.pool.max_delay = std::chrono::milliseconds(opts->max_batch > 1 ? opts->max_delay_ms : 0);
    o.pool.queue_capacity = static_cast<size_t>(opts->queue_size);
    if (o.max_images_per_request > o.pool.queue_capacity)
      throw UserError("--max-images (" + std::to_string(opts->max_images) + ") cannot exceed --queue-size (" +
                      std::to_string(opts->queue_size) + "): such a request could never be queued");
    // The intra-op threads (CPPDET_NUM_THREADS, OMP_NUM_THREADS or the core count) shared out.
    configure_threads();
    o.pool.threads_per_worker = std::max(1, at::get_num_threads() / opts->workers);

    install_stop_signals();
    serving::server_log().info("loading {} on {} ({} worker(s), {} thread(s) each)", opts->checkpoint, opts->device,
                               opts->workers, o.pool.threads_per_worker);
    std::vector<apis::InferenceModel> replicas;
    for (int w = 0; w < opts->workers; ++w)
      replicas.push_back(apis::init_detector(opts->config, opts->checkpoint, opts->device, opts->cfg_options));
    serving::ModelServer server(std::move(replicas), o);
    const int port = server.bind();
    serving::server_log().info("serving model '{}' on http://{}:{} (POST /predictions/{})", o.model_name, o.host, port,
                               o.model_name);
    std::thread watcher([&server] { watch_stop_signals(server); });
    server.serve();
    on_stop_signal(0);  // ends the watcher if no signal did
    watcher.join();
    serving::server_log().info("stopped");
  });
}

}  // namespace cppdet::tools
