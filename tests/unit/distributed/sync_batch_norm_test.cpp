// SyncBatchNorm with two ranks in threads against BatchNorm on the concatenated batch:
// outputs, running statistics, and input / weight / bias gradients.
#include "cppdet/distributed/sync_batch_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "thread_ranks.h"

namespace cppdet::distributed {
namespace {

using testing::run_ranks;

torch::nn::BatchNorm2d make_bn() {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNormOptions(3).momentum(0.1).eps(1e-5));
  torch::NoGradGuard no_grad;
  bn->weight.copy_(torch::tensor({1.5f, -0.5f, 2.0f}));
  bn->bias.copy_(torch::tensor({0.1f, 0.2f, -0.3f}));
  bn->running_var.fill_(2.0);
  return bn;
}

TEST(SyncBatchNorm, EqualsBatchNormOnTheWholeBatchForwardAndBackward) {
  torch::manual_seed(3);
  // Rank 0 holds 2 images, rank 1 one (unequal counts weigh the statistics).
  const std::vector<torch::Tensor> xs = {torch::randn({2, 3, 5, 4}) * 2 + 1, torch::randn({1, 3, 5, 4}) - 0.5};
  const std::vector<torch::Tensor> ws = {torch::randn({2, 3, 5, 4}), torch::randn({1, 3, 5, 4})};

  // Reference: one BatchNorm over the 3 images, loss sum(y * w).
  auto ref = make_bn();
  const torch::Tensor x_all = torch::cat(xs).requires_grad_(true);
  const torch::Tensor y_all = ref->forward(x_all);
  (y_all * torch::cat(ws)).sum().backward();

  std::vector<torch::Tensor> ys(2), dxs(2), dw(2), db(2), rm(2), rv(2);
  run_ranks(2, [&](int rank, ProcessGroup& g) {
    auto bn = make_bn();
    const torch::Tensor x = xs[rank].clone().requires_grad_(true);
    const torch::Tensor y = sync_batch_norm(x, *bn, &g);
    (y * ws[rank]).sum().backward();
    ys[rank] = y.detach();
    dxs[rank] = x.grad();
    dw[rank] = bn->weight.grad();
    db[rank] = bn->bias.grad();
    rm[rank] = bn->running_mean.clone();
    rv[rank] = bn->running_var.clone();
    EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
  });
  const std::vector<torch::Tensor> y_ref = y_all.detach().split({2, 1});
  const std::vector<torch::Tensor> dx_ref = x_all.grad().split({2, 1});
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(torch::allclose(ys[r], y_ref[r], 1e-5, 1e-5)) << "rank " << r;
    EXPECT_TRUE(torch::allclose(dxs[r], dx_ref[r], 1e-5, 1e-5)) << "rank " << r;
    EXPECT_TRUE(torch::allclose(rm[r], ref->running_mean, 1e-6, 1e-6)) << "rank " << r;
    EXPECT_TRUE(torch::allclose(rv[r], ref->running_var, 1e-6, 1e-6)) << "rank " << r;
  }
  // Each rank's weight / bias gradient is its own share: their sum is the whole batch's.
  EXPECT_TRUE(torch::allclose(dw[0] + dw[1], ref->weight.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(db[0] + db[1], ref->bias.grad(), 1e-5, 1e-5));
}

TEST(SyncBatchNorm, IsBatchNormInEvalModeAndInOneProcess) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  auto a = make_bn(), b = make_bn();
  EXPECT_TRUE(torch::equal(sync_batch_norm(x, *a, nullptr), b->forward(x)));
  EXPECT_TRUE(torch::equal(a->running_mean, b->running_mean));
  auto eval_bn = make_bn();
  eval_bn->eval();
  const torch::Tensor want = eval_bn->forward(x);
  run_ranks(2, [&](int, ProcessGroup& g) {
    auto c = make_bn();
    c->eval();
    EXPECT_TRUE(torch::equal(sync_batch_norm(x, *c, &g), want));
    EXPECT_TRUE(torch::equal(c->running_mean, eval_bn->running_mean));
  });
}

}  // namespace
}  // namespace cppdet::distributed
