// Data loader, collate and the samplers: order, padding, determinism, worker errors, shutdown;
// GroupSampler and DistributedSampler against mmdet's Python samplers on every rank.
#include "cppdet/data/loader/data_loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <sstream>
#include <thread>

#include "cppdet/core/error.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/data/samplers/distributed_sampler.h"
#include "cppdet/data/samplers/group_sampler.h"
#include "python_torch.h"
#include "support/test_support.h"

namespace cppdet::data {
namespace {

// Image i has size (10 + i) x (20 - i) and every pixel equal to i + 1; flag = w/h > 1.
class SizedDataset : public IndexedDataset {
 public:
  explicit SizedDataset(size_t n, int64_t fail_at = -1) : n_(n), fail_at_(fail_at) {}
  size_t size() const override { return n_; }
  uint8_t group_flag(size_t i) const override { return (20 - static_cast<int64_t>(i)) > (10 + static_cast<int64_t>(i)) ? 1 : 0; }
  Sample get(size_t i, uint64_t seed) const override {
    ++calls;
    if (static_cast<int64_t>(i) == fail_at_) throw FileFormatError("broken.jpg: not an image");
    const int64_t h = 10 + static_cast<int64_t>(i), w = 20 - static_cast<int64_t>(i);
    Sample s;
    s.inputs = torch::full({3, h, w}, static_cast<float>(i + 1));
    s.meta.filename = std::to_string(i);
    s.meta.img_shape = s.meta.pad_shape = {h, w, 3};
    s.gt_bboxes = torch::tensor({0.f, 0.f, 1.f, 1.f}).view({1, 4});
    s.gt_labels = torch::tensor({static_cast<int64_t>(seed % 7)});
    return s;
  }
  mutable std::atomic<int> calls{0};

 private:
  size_t n_;
  int64_t fail_at_;
};

std::vector<size_t> batch_ids(const DetBatch& b) {
  std::vector<size_t> ids;
  for (const auto& m : b.metas) ids.push_back(std::stoul(m.filename));
  return ids;
}

TEST(Collate, PadsBottomRightWithZerosToTheBatchMaximum) {
  SizedDataset ds(4);
  std::vector<Sample> samples = {ds.get(1, 0), ds.get(3, 0)};  // 11x19 and 13x17
  const DetBatch b = collate(samples);
  ASSERT_EQ(b.img.sizes(), (std::vector<int64_t>{2, 3, 13, 19}));
  EXPECT_EQ(b.img[0].slice(1, 0, 11).slice(2, 0, 19).min().item<float>(), 2.f);
  EXPECT_EQ(b.img[0].slice(1, 11).abs().sum().item<float>(), 0.f);  // bottom rows
  EXPECT_EQ(b.img[1].slice(2, 17).abs().sum().item<float>(), 0.f);  // right columns
  EXPECT_EQ(b.img[1].slice(1, 0, 13).slice(2, 0, 17).min().item<float>(), 4.f);
  ASSERT_EQ(b.gts.size(), 2u);
  EXPECT_EQ(b.metas[1].filename, "3");
}

TEST(GroupSampler, BatchesAreSingleGroupAndPaddedLikeMmdet) {
  std::vector<uint8_t> flags = {1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0};  // 4 ones, 7 zeros
  GroupSampler sampler(flags, 3, 42);
  EXPECT_EQ(sampler.size(), 6u + 9u);
  const auto idx = sampler.indices(0);
  ASSERT_EQ(idx.size(), 15u);
  std::set<size_t> seen(idx.begin(), idx.end());
  EXPECT_EQ(seen.size(), flags.size());  // every index at least once
  for (size_t b = 0; b < idx.size(); b += 3)
    for (size_t j = 1; j < 3; ++j) EXPECT_EQ(flags[idx[b + j]], flags[idx[b]]) << "batch " << b / 3;
  EXPECT_EQ(sampler.indices(0), idx);   // same epoch, same order
  EXPECT_NE(sampler.indices(1), idx);   // another epoch reshuffles
  EXPECT_NE(GroupSampler(flags, 3, 43).indices(0), idx);
}

TEST(GroupSampler, EqualsPythonDistributedGroupSamplerWithOneReplica) {
  if (cppdet::engine::testing::python_with_torch().empty())
    GTEST_SKIP() << "python3 with torch is not available";
  std::vector<uint8_t> flags = {1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0};
  const int64_t spg = 2, seed = 7, epoch = 3;
  // mmdet.datasets.samplers.DistributedGroupSampler.__iter__ for num_replicas=1, rank=0.
  std::ostringstream py;
  py << "import math, numpy as np, torch\n"
     << "flag = np.array([1,0,0,1,1,0,0,0,1,0,0,1,0]); spg = " << spg << "\n"
     << "g = torch.Generator(); g.manual_seed(" << epoch << " + " << seed << ")\n"
     << "indices = []\n"
     << "for i, size in enumerate(np.bincount(flag)):\n"
     << "  if size > 0:\n"
     << "    indice = np.where(flag == i)[0]\n"
     << "    indice = indice[list(torch.randperm(int(size), generator=g).numpy())].tolist()\n"
     << "    extra = int(math.ceil(size * 1.0 / spg)) * spg - len(indice)\n"
     << "    tmp = indice.copy()\n"
     << "    for _ in range(extra // size): indice.extend(tmp)\n"
     << "    indice.extend(tmp[:extra % size])\n"
     << "    indices.extend(indice)\n"
     << "indices = [indices[j] for i in list(torch.randperm(len(indices) // spg, generator=g)) for j in range(i * spg, (i + 1) * spg)]\n"
     << "print(' '.join(str(int(x)) for x in indices))\n";
  const auto r = cppdet::testing::run_command(cppdet::engine::testing::python_with_torch() + " -c " + cppdet::testing::shell_quote(py.str()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream in(r.output);
  std::vector<size_t> want;
  for (size_t v; in >> v;) want.push_back(v);
  EXPECT_EQ(GroupSampler(flags, spg, seed).indices(epoch), want);
}

// Runs Python code that prints one line of indices per rank; the lines as index lists.
std::vector<std::vector<size_t>> python_rank_lists(const std::string& code) {
  const auto r = cppdet::testing::run_command(cppdet::engine::testing::python_with_torch() + " -c " +
                                              cppdet::testing::shell_quote(code));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::vector<size_t>> out;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    out.emplace_back();
    for (size_t v; in >> v;) out.back().push_back(v);
  }
  return out;
}

TEST(GroupSampler, EqualsPythonDistributedGroupSamplerOnEveryRank) {
  if (cppdet::engine::testing::python_with_torch().empty())
    GTEST_SKIP() << "python3 with torch is not available";
  const std::vector<uint8_t> flags = {1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0};
  const int64_t spg = 2, seed = 5, epoch = 2, replicas = 3;
  // mmdet.datasets.samplers.DistributedGroupSampler.__iter__ (2.25), for each rank.
  std::ostringstream py;
  py << "import math, numpy as np, torch\n"
     << "flag = np.array([1,0,0,1,1,0,0,0,1,0,0,1,0]); spg = " << spg << "; R = " << replicas << "\n"
     << "sizes = np.bincount(flag)\n"
     << "num_samples = sum(int(math.ceil(s * 1.0 / spg / R)) * spg for s in sizes)\n"
     << "for rank in range(R):\n"
     << "  g = torch.Generator(); g.manual_seed(" << epoch << " + " << seed << ")\n"
     << "  indices = []\n"
     << "  for i, size in enumerate(sizes):\n"
     << "    if size > 0:\n"
     << "      indice = np.where(flag == i)[0]\n"
     << "      indice = indice[list(torch.randperm(int(size), generator=g).numpy())].tolist()\n"
     << "      extra = int(math.ceil(size * 1.0 / spg / R)) * spg * R - len(indice)\n"
     << "      tmp = indice.copy()\n"
     << "      for _ in range(extra // size): indice.extend(tmp)\n"
     << "      indice.extend(tmp[:extra % size])\n"
     << "      indices.extend(indice)\n"
     << "  indices = [indices[j] for i in list(torch.randperm(len(indices) // spg, generator=g)) for j in range(i * spg, (i + 1) * spg)]\n"
     << "  offset = num_samples * rank\n"
     << "  print(' '.join(str(int(x)) for x in indices[offset:offset + num_samples]))\n";
  const std::vector<std::vector<size_t>> want = python_rank_lists(py.str());
  ASSERT_EQ(want.size(), static_cast<size_t>(replicas));
  for (int64_t rank = 0; rank < replicas; ++rank) {
    const GroupSampler sampler(flags, spg, seed, replicas, rank);
    EXPECT_EQ(sampler.size(), want[rank].size());
    EXPECT_EQ(sampler.indices(epoch), want[rank]) << "rank " << rank;
  }
}

TEST(DistributedSampler, EqualsMmdetsDistributedSamplerOnEveryRank) {
  if (cppdet::engine::testing::python_with_torch().empty())
    GTEST_SKIP() << "python3 with torch is not available";
  const size_t n = 7;
  const int64_t seed = 3, epoch = 4, replicas = 3;
  for (bool shuffle : {false, true}) {
    // mmdet.datasets.samplers.DistributedSampler.__iter__ (2.25), for each rank.
    std::ostringstream py;
    py << "import math, torch\n"
       << "n = " << n << "; R = " << replicas << "\n"
       << "num_samples = int(math.ceil(n / R)); total = num_samples * R\n"
       << "for rank in range(R):\n"
       << "  if " << (shuffle ? "True" : "False") << ":\n"
       << "    g = torch.Generator(); g.manual_seed(" << epoch << " + " << seed << ")\n"
       << "    indices = torch.randperm(n, generator=g).tolist()\n"
       << "  else:\n"
       << "    indices = torch.arange(n).tolist()\n"
       << "  indices = (indices * math.ceil(total / len(indices)))[:total]\n"
       << "  print(' '.join(str(i) for i in indices[rank:total:R]))\n";
    const std::vector<std::vector<size_t>> want = python_rank_lists(py.str());
    ASSERT_EQ(want.size(), static_cast<size_t>(replicas));
    for (int64_t rank = 0; rank < replicas; ++rank)
      EXPECT_EQ(DistributedSampler(n, replicas, rank, shuffle, seed).indices(epoch), want[rank])
          << "rank " << rank << " shuffle " << shuffle;
  }
}

TEST(DataLoader, SameBatchesInSamplerOrderForAnyWorkerCount) {
  auto ds = std::make_shared<SizedDataset>(9);
  std::vector<uint8_t> flags;
  for (size_t i = 0; i < ds->size(); ++i) flags.push_back(ds->group_flag(i));
  auto sampler = std::make_shared<GroupSampler>(flags, 2, 5);
  std::vector<std::vector<size_t>> reference;
  for (int64_t workers : {0, 1, 3}) {
    DataLoader loader(ds, sampler, {2, workers, 0, 11});
    EXPECT_EQ(loader.size(), 5u);
    auto it = loader.epoch(2);
    std::vector<std::vector<size_t>> got;
    std::vector<int64_t> labels;
    while (auto b = it->next()) {
      got.push_back(batch_ids(*b));
      for (const auto& gt : b->gts) labels.push_back(gt.labels[0].item<int64_t>());
    }
    if (reference.empty()) reference = got;
    EXPECT_EQ(got, reference) << workers << " workers";
    std::vector<size_t> flat;
    for (const auto& b : got) flat.insert(flat.end(), b.begin(), b.end());
    EXPECT_EQ(flat, sampler->indices(2));
    static std::vector<int64_t> first_labels;  // rng seeds depend on position only
    if (first_labels.empty()) first_labels = labels;
    EXPECT_EQ(labels, first_labels);
  }
}

TEST(DataLoader, StartsInsideAnEpochWithoutLoadingEarlierBatches) {
  auto ds = std::make_shared<SizedDataset>(8);
  auto sampler = std::make_shared<SequentialSampler>(8);
  DataLoader loader(ds, sampler, {2, 2, 0, 0});
  auto it = loader.epoch(0, 3);
  auto b = it->next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(batch_ids(*b), (std::vector<size_t>{6, 7}));
  EXPECT_FALSE(it->next().has_value());
  EXPECT_FALSE(it->next().has_value());
  EXPECT_EQ(ds->calls.load(), 2);
}

TEST(DataLoader, WorkerErrorIsRethrownWithTheDatasetIndex) {
  for (int64_t workers : {0, 2}) {
    auto ds = std::make_shared<SizedDataset>(10, /*fail_at=*/5);
    DataLoader loader(ds, std::make_shared<SequentialSampler>(10), {2, workers, 0, 0});
    auto it = loader.epoch(0);
    EXPECT_EQ(batch_ids(*it->next()), (std::vector<size_t>{0, 1}));
    EXPECT_EQ(batch_ids(*it->next()), (std::vector<size_t>{2, 3}));
    try {
      it->next();
      FAIL() << "expected an error";
    } catch (const UserError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("dataset index 5"), std::string::npos) << msg;
      EXPECT_NE(msg.find("broken.jpg"), std::string::npos) << msg;
    }
    EXPECT_THROW(it->next(), UserError);  // stays failed, never hangs
  }
}

TEST(DataLoader, DestroyingAnUnfinishedEpochStopsItsThreads) {
  auto ds = std::make_shared<SizedDataset>(10);
  DataLoader loader(ds, std::make_shared<SequentialSampler>(10), {1, 3, 2, 0});
  for (int round = 0; round < 20; ++round) {
    auto it = loader.epoch(round);
    it->next();
  }  // each epoch is destroyed with loads in flight; the test passes by returning
  auto it = loader.epoch(0);
  int n = 0;
  while (it->next()) ++n;
  EXPECT_EQ(n, 10);
}

TEST(DataLoader, RejectsBadSizes) {
  auto ds = std::make_shared<SizedDataset>(3);
  EXPECT_THROW(DataLoader(ds, std::make_shared<SequentialSampler>(3), {0, 0, 0, 0}), UserError);
  EXPECT_THROW(DataLoader(ds, std::make_shared<SequentialSampler>(3), {1, -1, 0, 0}), UserError);
  EXPECT_THROW(DataLoader(ds, std::make_shared<SequentialSampler>(5), {1, 0, 0, 0}).epoch(0), UserError);
}

}  // namespace
}  // namespace cppdet::data
