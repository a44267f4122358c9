// ProcessGroup on Gloo with ranks in threads of this process: collectives, the rendezvous
// checks and the lost-rank diagnosis.
#include "cppdet/distributed/process_group.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>

#include "support/test_support.h"
#include "thread_ranks.h"

namespace cppdet::distributed {
namespace {

using testing::run_ranks;

TEST(ProcessGroup, CollectivesCombineEveryRank) {
  run_ranks(3, [](int rank, ProcessGroup& g) {
    EXPECT_EQ(g.rank(), rank);
    EXPECT_EQ(g.world_size(), 3);
    torch::Tensor t = torch::full({4}, static_cast<float>(rank + 1));
    g.all_reduce(t);
    EXPECT_TRUE(torch::equal(t, torch::full({4}, 6.f)));
    torch::Tensor m = torch::tensor({rank, -rank}, torch::kInt);
    g.all_reduce(m, ReduceOp::Max);
    EXPECT_EQ(m[0].item<int>(), 2);
    EXPECT_EQ(m[1].item<int>(), 0);

    torch::Tensor a = torch::full({2, 2}, static_cast<double>(rank)), b = torch::full({3}, rank * 10L);
    g.broadcast({a, b}, 1);
    EXPECT_TRUE(torch::equal(a, torch::full({2, 2}, 1.0)));
    EXPECT_TRUE(torch::equal(b, torch::full({3}, 10L)));

    const std::vector<torch::Tensor> gathered = g.all_gather(torch::full({2}, static_cast<float>(rank)));
    ASSERT_EQ(gathered.size(), 3u);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(gathered[r][1].item<float>(), static_cast<float>(r));

    const std::vector<std::string> bytes = g.all_gather_bytes(std::string(static_cast<size_t>(rank) * 5, 'a' + rank));
    ASSERT_EQ(bytes.size(), 3u);
    EXPECT_EQ(bytes[0], "");
    EXPECT_EQ(bytes[2], std::string(10, 'c'));
    EXPECT_EQ(g.broadcast_string(rank == 2 ? "from two" : "x", 2), "from two");
    g.barrier();
  });
}

TEST(ProcessGroup, MismatchedWorldSizesAreRefused) {
  const int port = cppdet::testing::free_tcp_port();
  std::vector<std::string> messages(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      LaunchEnv env;
      env.rank = r;
      env.world_size = r == 0 ? 2 : 3;
      env.master_addr = "127.0.0.1";
      env.master_port = port;
      GroupOptions o;
      o.timeout = std::chrono::seconds(20);
      messages[r] = cppdet::testing::user_error_of([&] { ProcessGroup::connect(env, o); });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_NE(messages[0].find("mismatched world sizes: rank 1 was started with WORLD_SIZE=3"), std::string::npos)
      << messages[0];
  EXPECT_NE(messages[1].find("mismatched world sizes: this process (RANK 1) has WORLD_SIZE=3 but rank 0 has WORLD_SIZE=2"),
            std::string::npos)
      << messages[1];
}

TEST(ProcessGroup, UnreachableMasterAndBusyPortAreNamed) {
  LaunchEnv env;
  env.rank = 1;
  env.world_size = 2;
  env.master_addr = "127.0.0.1";
  env.master_port = cppdet::testing::free_tcp_port();
  GroupOptions o;
  o.timeout = std::chrono::seconds(1);
  const std::string unreachable = cppdet::testing::user_error_of([&] { ProcessGroup::connect(env, o); });
  EXPECT_NE(unreachable.find("rank 1 cannot reach the master's rendezvous store at 127.0.0.1:" +
                             std::to_string(env.master_port)),
            std::string::npos)
      << unreachable;

  // A port some other program listens on.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  env.rank = 0;
  env.master_port = ntohs(addr.sin_port);
  const std::string busy = cppdet::testing::user_error_of([&] { ProcessGroup::connect(env, o); });
  ::close(fd);
  EXPECT_NE(busy.find("MASTER_PORT=" + std::to_string(env.master_port) + " is already in use"), std::string::npos) << busy;
}

TEST(ProcessGroup, ACollectiveWithAVanishedRankNamesIt) {
  std::atomic<bool> rank1_gone{false};
  std::string message;
  run_ranks(
      2,
      [&](int rank, ProcessGroup& g) {
        torch::Tensor t = torch::ones({2});
        g.all_reduce(t);  // both present
        if (rank == 1) {
          rank1_gone = true;
          return;  // the group is destroyed: its sockets close, its heartbeat stops
        }
        while (!rank1_gone) std::this_thread::yield();
        message = cppdet::testing::user_error_of([&] { g.all_reduce(t); });
      },
      std::chrono::seconds(20));
  EXPECT_NE(message.find("all_reduce failed on rank 0: lost rank 1"), std::string::npos) << message;
}

}  // namespace
}  // namespace cppdet::distributed
