// The data-parallel test helpers: each rank's share of the images, the byte form of results,
// and collect_results putting three ranks' results back in dataset order.
#include "cppdet/apis/test.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/distributed/process_group.h"
#include "unit/distributed/thread_ranks.h"

namespace cppdet::apis {
namespace {

// Image i's detections: class 0 holds i boxes whose every value is i + 0.25, class 1 none;
// with masks, one 3x2 RLE per box.
data::ImageDetections detections_of(size_t i, bool masks) {
  data::ImageDetections d;
  d.bboxes.push_back(torch::full({static_cast<int64_t>(i), 5}, static_cast<float>(i) + 0.25f));
  d.bboxes.push_back(torch::zeros({0, 5}));
  if (masks) {
    d.masks.resize(2);
    for (size_t k = 0; k < i; ++k) d.masks[0].push_back(evaluation::Rle{3, 2, {static_cast<uint32_t>(k), 1, 5 - static_cast<uint32_t>(k)}});
  }
  return d;
}

void expect_same(const data::ImageDetections& a, const data::ImageDetections& b) {
  ASSERT_EQ(a.bboxes.size(), b.bboxes.size());
  for (size_t c = 0; c < a.bboxes.size(); ++c) EXPECT_TRUE(torch::equal(a.bboxes[c], b.bboxes[c]));
  ASSERT_EQ(a.masks.size(), b.masks.size());
  for (size_t c = 0; c < a.masks.size(); ++c) {
    ASSERT_EQ(a.masks[c].size(), b.masks[c].size());
    for (size_t k = 0; k < a.masks[c].size(); ++k) EXPECT_EQ(a.masks[c][k].counts, b.masks[c][k].counts);
  }
}

TEST(DetectionList, BytesRoundTripAndBadBytesAreRejected) {
  std::vector<data::ImageDetections> list = {detections_of(0, true), detections_of(3, true), detections_of(2, false)};
  const std::string bytes = data::encode_detection_list(list);
  const std::vector<data::ImageDetections> back = data::decode_detection_list(bytes);
  ASSERT_EQ(back.size(), list.size());
  for (size_t i = 0; i < list.size(); ++i) expect_same(back[i], list[i]);
  EXPECT_THROW(data::decode_detection_list(bytes.substr(0, bytes.size() - 1)), FileFormatError);
  EXPECT_THROW(data::decode_detection_list(bytes + "x"), FileFormatError);
}

TEST(CollectResults, GathersEveryRanksShareInDatasetOrder) {
  const size_t n = 7;  // 3 ranks: 3 per rank, two padded images
  std::vector<data::ImageDetections> on_master;
  distributed::testing::run_ranks(3, [&](int rank, distributed::ProcessGroup& g) {
    const std::vector<size_t> mine = test_indices(n, &g);
    EXPECT_EQ(mine.size(), 3u);
    EXPECT_EQ(mine[0], static_cast<size_t>(rank));
    std::vector<data::ImageDetections> part;
    for (size_t i : mine) part.push_back(detections_of(i, true));
    std::vector<data::ImageDetections> all = collect_results(std::move(part), n, &g);
    if (rank == 0)
      on_master = std::move(all);
    else
      EXPECT_TRUE(all.empty());
  });
  ASSERT_EQ(on_master.size(), n);
  for (size_t i = 0; i < n; ++i) expect_same(on_master[i], detections_of(i, true));
  EXPECT_EQ(test_indices(3, nullptr), (std::vector<size_t>{0, 1, 2}));
}

}  // namespace
}  // namespace cppdet::apis
