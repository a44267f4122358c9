#pragma once
// A `cppdet serve` process for the server tests, and a raw HTTP exchange for requests that no
// well-behaved client sends.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace cppdet::testing {

class ServerProcess {
 public:
  // Starts `cppdet serve <tiny Mask R-CNN> --model-name tiny --port 0 <extra_args>` (with
  // `--cfg-options kSmallTestScale` when `small_scale`) with
  // CPPDET_NUM_THREADS=1 and its output in a log file; returns once it serves (throws when it
  // exits or does not serve within a minute).
  explicit ServerProcess(const std::vector<std::string>& extra_args = {}, bool small_scale = true);
  ~ServerProcess();  // kills and reaps it if it still runs
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;
  // Sends SIGTERM and waits up to `timeout`: the exit status, or -1 when it had to be killed.
  int terminate(std::chrono::seconds timeout);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// The tiny Mask R-CNN of the quick start (tests/fixtures/oracle_cases/mask_tiny_r50), and the
// --cfg-options value that scales its test images to 416x256 at most (instead of 1333x800) to
// keep the tests fast: the server and `cppdet infer` in the tests both use it.
std::string tiny_config();
std::string tiny_checkpoint();
extern const char* const kSmallTestScale;

struct RawResponse {
  int status = 0;  // 0 when no status line came back
  std::string head;
  std::string body;
};

// Writes `request` as is to a new connection to 127.0.0.1:`port` (half-closing it after when
// `close_after_send`) and reads until the server closes the connection, or `timeout`.
RawResponse raw_exchange(int port, const std::string& request, bool close_after_send = false,
                         std::chrono::seconds timeout = std::chrono::seconds(10));

}  // namespace cppdet::testing
