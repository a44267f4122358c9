// The training data path against MMDetection 2.25: CocoDataset (train mode) + the training
// pipeline (LoadAnnotations with masks, Resize, RandomFlip, Normalize, Pad,
// DefaultFormatBundle) + collate reproduce the batch the oracle recorded in
// train_cases/<case>/expected.json "inputs": tensor sums, probe pixels, gt boxes, labels and
// mask pixel counts.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cppdet/config/config_file.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/loader/collate.h"
#include "support/test_support.h"

namespace cppdet::data {
namespace {

using nlohmann::json;

// The case folder: the repo's fixture copy, else ../shared/oracle/train; "" when neither exists.
std::string case_dir(const std::string& name) {
  const std::string fixture = testing::fixture("train_cases/" + name);
  if (std::filesystem::exists(fixture + "/expected.json")) return fixture;
  const std::string shared = testing::shared_dir();
  if (!shared.empty() && std::filesystem::exists(shared + "/oracle/train/" + name + "/expected.json"))
    return shared + "/oracle/train/" + name;
  return "";
}

class TrainPipelineParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainPipelineParity, BatchMatchesMmdet) {
  const std::string dir = case_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "train case " << GetParam() << " not available";
  const json want = json::parse(read_file(dir + "/expected.json"))["inputs"];
  config::Value cfg = config::load_config(dir + "/train_config.py");
  config::Value train = cfg.as_dict().at("data").as_dict().at("train");
  train.as_dict().set("ann_file", dir + "/annotations.json");
  train.as_dict().set("img_prefix", dir + "/");
  const TrainDataset ds = build_train_dataset(train);
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(ds.dataset->size(), 2u);
  EXPECT_EQ(ds.dataset->group_flag(0), 1);
  EXPECT_EQ(ds.dataset->group_flag(1), 0);

  std::vector<Sample> samples;
  for (size_t i = 0; i < 2; ++i) samples.push_back(ds.dataset->get(i, 1234 + i));
  const DetBatch batch = collate(std::move(samples));

  EXPECT_EQ(batch.img.sizes().vec(), want["batch_shape"].get<std::vector<int64_t>>());
  const torch::Tensor img64 = batch.img.to(torch::kFloat64);
  const double sum = img64.sum().item<double>();
  EXPECT_NEAR(sum, want["batch_sum"].get<double>(), 1e-6 * std::abs(want["batch_sum"].get<double>()));
  EXPECT_NEAR(img64.abs().sum().item<double>(), want["batch_abs_sum"].get<double>(), 1e-6 * want["batch_abs_sum"].get<double>());
  for (size_t i = 0; i < 2; ++i) {
    const double s = img64[static_cast<int64_t>(i)].sum().item<double>();
    EXPECT_NEAR(s, want["per_image_sum"][i].get<double>(), 1e-6 * std::abs(want["per_image_sum"][i].get<double>()));
    const json& meta = want["img_metas"][i];
    EXPECT_EQ(std::vector<int64_t>(batch.metas[i].img_shape.begin(), batch.metas[i].img_shape.end()),
              meta["img_shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(std::vector<int64_t>(batch.metas[i].pad_shape.begin(), batch.metas[i].pad_shape.end()),
              meta["pad_shape"].get<std::vector<int64_t>>());
    for (size_t k = 0; k < 4; ++k)
      EXPECT_EQ(batch.metas[i].scale_factor[k], meta["scale_factor"][k].get<float>());
  }
  for (const auto& [key, rgb] : want["probe_pixels"].items()) {
    int64_t b, y, x;
    ASSERT_EQ(std::sscanf(key.c_str(), "%ld,%ld,%ld", &b, &y, &x), 3);
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_NEAR(batch.img[b][c][y][x].item<float>(), rgb[static_cast<size_t>(c)].get<double>(), 1e-5) << key << " c" << c;
  }
  for (size_t i = 0; i < 2; ++i) {
    const GtInstances& gt = batch.gts[i];
    const json& boxes = want["gt_bboxes"][i];
    ASSERT_EQ(gt.bboxes.size(0), static_cast<int64_t>(boxes.size()));
    for (size_t k = 0; k < boxes.size(); ++k)
      for (size_t c = 0; c < 4; ++c)
        EXPECT_FLOAT_EQ(gt.bboxes[static_cast<int64_t>(k)][static_cast<int64_t>(c)].item<float>(), boxes[k][c].get<float>());
    const torch::Tensor labels = gt.labels.contiguous();
    EXPECT_EQ(std::vector<int64_t>(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel()),
              want["gt_labels"][i].get<std::vector<int64_t>>());
    if (want.contains("gt_masks")) {
      const json& m = want["gt_masks"][i];
      ASSERT_TRUE(gt.masks.defined());
      EXPECT_EQ(gt.masks.sizes().vec(), (std::vector<int64_t>{m["count"].get<int64_t>(), m["height"].get<int64_t>(), m["width"].get<int64_t>()}));
      for (size_t k = 0; k < m["pixel_sums"].size(); ++k)
        EXPECT_EQ(gt.masks[static_cast<int64_t>(k)].sum().item<int64_t>(), m["pixel_sums"][k].get<int64_t>()) << "mask " << k;
    } else {
      EXPECT_FALSE(gt.masks.defined());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, TrainPipelineParity, ::testing::Values("faster_tiny_r50_train", "mask_tiny_r50_train"));

}  // namespace
}  // namespace cppdet::data
