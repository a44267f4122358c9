// DistributedDataParallel with two ranks in threads: the averaged gradients equal the mean of
// one-process gradients, over several buckets and iterations; unused parameters.
#include "cppdet/distributed/data_parallel.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/test_support.h"
#include "thread_ranks.h"

namespace cppdet::distributed {
namespace {

using testing::run_ranks;

// Linear(4, 8) -> ReLU -> Linear(8, 3), plus `spare`, a Linear(3, 2) used only when asked.
struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(4, 8));
    b = register_module("b", torch::nn::Linear(8, 3));
    spare = register_module("spare", torch::nn::Linear(3, 2));
  }
  torch::Tensor forward(const torch::Tensor& x, bool use_spare) {
    torch::Tensor y = b->forward(torch::relu(a->forward(x)));
    return use_spare ? spare->forward(y) : y;
  }
  torch::nn::Linear a{nullptr}, b{nullptr}, spare{nullptr};
};

std::shared_ptr<Net> make_net(uint64_t seed) {
  torch::manual_seed(seed);
  return std::make_shared<Net>();
}

torch::Tensor input_of(int rank, int step) {
  return torch::linspace(-1.0, 1.0, 20).view({5, 4}) * (rank + 1) + step * 0.1;
}

// The gradients of one process's loss on `x`, by parameter name.
std::map<std::string, torch::Tensor> single_gradients(const torch::Tensor& x, bool use_spare,
                                                      const std::map<std::string, torch::Tensor>& weights) {
  auto net = make_net(0);
  torch::NoGradGuard guard;
  for (auto& p : net->named_parameters()) p.value().copy_(weights.at(p.key()));
  std::map<std::string, torch::Tensor> out;
  {
    torch::AutoGradMode on(true);
    net->forward(x, use_spare).pow(2).sum().backward();
  }
  for (auto& p : net->named_parameters())
    if (p.value().grad().defined()) out[p.key()] = p.value().grad().clone();
  return out;
}

TEST(DistributedDataParallel, GradientsAreTheMeanOfTheRanksOverBucketsAndSteps) {
  run_ranks(2, [](int rank, ProcessGroup& g) {
    auto net = make_net(rank == 0 ? 0 : 99);  // rank 1 starts elsewhere: construction broadcasts rank 0's
    for (auto& p : net->spare->parameters()) p.set_requires_grad(false);  // frozen: not reduced
    DataParallelOptions o;
    o.first_bucket_bytes = 16;  // several buckets: b.bias, b.weight, a.bias, a.weight
    o.bucket_cap_bytes = 64;
    DistributedDataParallel ddp(*net, g, o);
    EXPECT_GE(ddp.num_buckets(), 3u);
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1));
    for (int step = 0; step < 3; ++step) {
      std::map<std::string, torch::Tensor> weights;
      for (auto& p : net->named_parameters()) weights[p.key()] = p.value().detach().clone();
      const auto g0 = single_gradients(input_of(0, step), false, weights);
      const auto g1 = single_gradients(input_of(1, step), false, weights);
      sgd.zero_grad();
      net->forward(input_of(rank, step), false).pow(2).sum().backward();
      ddp.finish_backward();
      for (auto& p : net->named_parameters()) {
        if (p.key().rfind("spare", 0) == 0) continue;
        const torch::Tensor want = (g0.at(p.key()) + g1.at(p.key())) / 2;
        EXPECT_TRUE(torch::allclose(p.value().grad(), want, 1e-6, 1e-7)) << p.key() << " step " << step;
      }
      sgd.step();
    }
    // Both ranks hold the same weights after the steps.
    for (auto& p : net->named_parameters()) {
      torch::Tensor mine = p.value().detach().clone();
      torch::Tensor other = mine.clone();
      g.broadcast({other}, 1);
      EXPECT_TRUE(torch::equal(mine, other)) << p.key();
    }
  });
}

TEST(DistributedDataParallel, UnusedParametersNeedFindUnusedParameters) {
  std::vector<std::string> messages(2);
  run_ranks(2, [&](int rank, ProcessGroup& g) {
    auto net = make_net(0);
    DistributedDataParallel ddp(*net, g);
    net->forward(input_of(rank, 0), false).sum().backward();
    messages[rank] = cppdet::testing::user_error_of([&] { ddp.finish_backward(); });
  });
  for (const std::string& m : messages) {
    EXPECT_NE(m.find("received no gradient in this iteration: spare.weight, spare.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("find_unused_parameters = True"), std::string::npos) << m;
  }
}

TEST(DistributedDataParallel, FindUnusedParametersAveragesWhatSomeRankUsed) {
  run_ranks(2, [](int rank, ProcessGroup& g) {
    auto net = make_net(0);
    DataParallelOptions o;
    o.find_unused_parameters = true;
    DistributedDataParallel ddp(*net, g, o);
    std::map<std::string, torch::Tensor> weights;
    for (auto& p : net->named_parameters()) weights[p.key()] = p.value().detach().clone();
    // Rank 0 uses `spare`, rank 1 does not: spare's gradient is rank 0's / 2.
    const auto g0 = single_gradients(input_of(0, 0), true, weights);
    net->forward(input_of(rank, 0), rank == 0).pow(2).sum().backward();
    ddp.finish_backward();
    EXPECT_TRUE(torch::allclose(net->spare->weight.grad(), g0.at("spare.weight") / 2, 1e-6, 1e-7));
    // Nobody uses `spare` now: its gradient is left as it was (zeroed in place).
    for (auto& p : net->parameters()) p.mutable_grad().zero_();
    net->forward(input_of(rank, 1), false).pow(2).sum().backward();
    ddp.finish_backward();
    EXPECT_EQ(net->spare->weight.grad().abs().sum().item<float>(), 0.f);
    EXPECT_GT(net->a->weight.grad().abs().sum().item<float>(), 0.f);
  });
}

TEST(DistributedDataParallel, DifferentModelsAreRefused) {
  std::vector<std::string> messages(2);
  run_ranks(2, [&](int rank, ProcessGroup& g) {
    torch::nn::Sequential net(torch::nn::Linear(4, rank == 0 ? 3 : 5));
    messages[rank] = cppdet::testing::user_error_of([&] { DistributedDataParallel ddp(*net, g); });
  });
  EXPECT_NE(messages[1].find("rank 1 built a different model than rank 0: here param 0.weight Float [5,4], on rank 0 "
                             "param 0.weight Float [3,4]"),
            std::string::npos)
      << messages[1];
  EXPECT_NE(messages[0].find("another rank built a different model"), std::string::npos) << messages[0];
}

}  // namespace
}  // namespace cppdet::distributed
