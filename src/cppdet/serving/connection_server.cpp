#include "cppdet/serving/connection_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cppdet::serving {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events`; false on timeout or error.
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                     : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (r != 0) return;
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

// A connection's socket as httplib reads and writes it: buffered reads within the current
// request's byte budget, writes that give up after io_timeout without progress.
class BudgetStream final : public httplib::Stream {
 public:
  BudgetStream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}

  void set_budget(size_t bytes) { budget_ = bytes; }
  bool over_budget() const { return over_budget_; }
  bool has_buffered() const { return begin_ < end_; }

  bool is_readable() const override { return has_buffered() || wait_for(fd_, POLLIN, timeout_); }
  bool is_writable() const override { return wait_for(fd_, POLLOUT, timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (budget_ == 0) {
      over_budget_ = true;
      return -1;
    }
    if (begin_ == end_) {
      if (!wait_for(fd_, POLLIN, timeout_)) return -1;
      ssize_t n;
      do n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min({size, end_ - begin_, budget_});
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    budget_ -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!wait_for(fd_, POLLOUT, timeout_)) return -1;
    ssize_t n;
    do n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(fd_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(fd_, false, ip, port); }
  socket_t socket() const override { return fd_; }

 private:
  int fd_;
  std::chrono::milliseconds timeout_;
  std::array<char, 16384> buffer_;
  size_t begin_ = 0, end_ = 0;
  size_t budget_ = 0;
  bool over_budget_ = false;
};

struct RequestState {
  BudgetStream* stream = nullptr;
  Clock::time_point start;
  bool close_after = false;
};

thread_local RequestState* t_request = nullptr;
// Set while the accept thread runs a connection that found the waiting list full.
thread_local bool t_refuse = false;

// Fixed connection threads; a bounded list of connections waiting for one.
class ConnectionQueue final : public httplib::TaskQueue {
 public:
  ConnectionQueue(size_t threads, size_t max_pending) : max_pending_(max_pending) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pending_.size() < max_pending_) {
        pending_.push_back(std::move(fn));
        cond_.notify_one();
        return;
      }
    }
    t_refuse = true;  // answered 503 on the accept thread, without reading the request
    fn();
    t_refuse = false;
  }

  // Serves every waiting connection, then joins the threads.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cond_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cond_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;
        fn = std::move(pending_.front());
        pending_.pop_front();
      }
      fn();
    }
  }

  size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::function<void()>> pending_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Our side of the connection ends first; what the client still sends (a body we refused) is
// read and dropped for a moment, so that closing does not reset the connection before the
// client has read the response.
void close_gracefully(int fd) {
  ::shutdown(fd, SHUT_WR);
  std::array<char, 16384> scratch;
  const auto deadline = Clock::now() + std::chrono::milliseconds(500);
  for (size_t drained = 0; drained < (4u << 20);) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !wait_for(fd, POLLIN, left)) break;
    const ssize_t n = ::recv(fd, scratch.data(), scratch.size(), 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  ::close(fd);
}

// The whole answer to a connection refused for lack of threads.
std::string refusal_response() {
  const std::string body = R"({"error": "server busy: too many connections; retry later"})";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

ConnectionServer::ConnectionServer(ConnectionLimits limits, std::function<void()> on_refused)
    : limits_(limits), on_refused_(std::move(on_refused)) {
  new_task_queue = [this] { return new ConnectionQueue(limits_.threads, limits_.pending); };
  set_keep_alive_max_count(limits_.keep_alive_requests);
  set_payload_max_length(limits_.body_bytes);
  set_tcp_nodelay(true);
}

void ConnectionServer::begin_shutdown() {
  stopping_ = true;
  // httplib's stop() closes the listening socket only once listen() is running; closing it here
  // also covers a shutdown that comes between bind and listen (listen then returns at once).
  const socket_t listening = svr_sock_.exchange(INVALID_SOCKET);
  if (listening != INVALID_SOCKET) {
    ::shutdown(listening, SHUT_RDWR);
    ::close(listening);
  }
}

void ConnectionServer::close_after_response() {
  if (t_request) t_request->close_after = true;
}

bool ConnectionServer::body_over_budget() { return t_request && t_request->stream->over_budget(); }

std::chrono::steady_clock::time_point ConnectionServer::request_start() {
  return t_request ? t_request->start : Clock::now();
}

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  const int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // headers and body go out at once
  if (t_refuse) {
    const std::string response = refusal_response();
    if (wait_for(sock, POLLOUT, limits_.io_timeout)) ::send(sock, response.data(), response.size(), MSG_NOSIGNAL);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    if (on_refused_) on_refused_();
    return true;
  }
  BudgetStream stream(sock, limits_.io_timeout);
  for (size_t served = 0; served < limits_.keep_alive_requests; ++served) {
    // The next request: wait for its first byte, leaving early when the server stops.
    if (!stream.has_buffered()) {
      const auto idle_until = Clock::now() + limits_.keep_alive_timeout;
      bool readable = false;
      while (!readable && Clock::now() < idle_until) {
        readable = wait_for(sock, POLLIN, std::chrono::milliseconds(50));
        if (!readable && stopping_) break;
      }
      if (!readable) break;
    }
    RequestState state;
    state.stream = &stream;
    state.start = Clock::now();
    t_request = &state;
    stream.set_budget(limits_.header_bytes);
    const bool last = served + 1 == limits_.keep_alive_requests || stopping_;
    bool client_closes = false;
    const bool ok = process_request(stream, last, client_closes, [&](httplib::Request&) {
      stream.set_budget(limits_.body_bytes);
    });
    t_request = nullptr;
    if (!ok || last || client_closes || state.close_after || stream.over_budget()) break;
  }
  close_gracefully(sock);
  return true;
}

}  // namespace cppdet::serving
