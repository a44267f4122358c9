#pragma once
// Several ranks of a Gloo process group inside one test process, one thread each, on
// 127.0.0.1: the collectives' arithmetic without starting processes.
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "cppdet/distributed/process_group.h"
#include "support/test_support.h"

namespace cppdet::distributed::testing {

// Runs fn(rank, group) for ranks 0 .. world-1 concurrently; rethrows the first rank's error.
inline void run_ranks(int world, const std::function<void(int, ProcessGroup&)>& fn,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const int port = cppdet::testing::free_tcp_port();
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        LaunchEnv env;
        env.rank = r;
        env.world_size = world;
        env.master_addr = "127.0.0.1";
        env.master_port = port;
        GroupOptions options;
        options.timeout = timeout;
        std::shared_ptr<ProcessGroup> group = ProcessGroup::connect(env, options);
        fn(r, *group);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace cppdet::distributed::testing
