#pragma once
// cpp-httplib's Server with cppdet's own connection handling (private to serving/: it is the
// only header that includes <httplib.h>). httplib parses requests, routes them and writes
// responses; this class decides what happens on each connection:
//  - a fixed number of connection threads and a bounded list of accepted connections waiting
//    for one; a connection beyond that is answered 503 at once, unread;
//  - a byte budget per request: at most header_bytes for the request line and headers and
//    body_bytes for the body (chunked or multipart framing included), so no request, well-formed
//    or not, makes the server buffer more than that;
//  - a connection closes after a response whose request body was not (fully) read, so those
//    bytes are never taken for the next request, and closes gracefully (our side first, then
//    a short drain) so the client reads the response before the socket goes;
//  - idle keep-alive connections end as soon as shutdown begins.
// A connection is served by one thread from start to end, so the state of its current request
// is thread-local and handlers reach it through the static functions below.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace cppdet::serving {

struct ConnectionLimits {
  size_t threads = 32;               // connections served at once
  size_t pending = 32;               // accepted connections waiting for a thread, at most
  size_t header_bytes = 64 * 1024;   // request line and headers
  size_t body_bytes = 20 << 20;      // the body as sent (with chunked / multipart framing)
  size_t keep_alive_requests = 100;  // requests per connection
  std::chrono::milliseconds io_timeout{5000};  // a read or write that makes no progress
  std::chrono::milliseconds keep_alive_timeout{5000};
};

class ConnectionServer : public httplib::Server {
 public:
  // `on_refused` is told about each connection answered 503 because all threads were busy and
  // the waiting list was full.
  ConnectionServer(ConnectionLimits limits, std::function<void()> on_refused);

  // Stops accepting connections; requests already read are answered, idle connections close.
  void begin_shutdown();

  // The current request of the calling connection thread:
  // closes the connection after its response (its body is left unread).
  static void close_after_response();
  // whether reading its body ran past body_bytes.
  static bool body_over_budget();
  // when its first byte was read.
  static std::chrono::steady_clock::time_point request_start();

 private:
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  std::function<void()> on_refused_;
  std::atomic<bool> stopping_{false};
};

}  // namespace cppdet::serving
