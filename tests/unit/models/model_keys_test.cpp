// Full-size models: state_dict keys, shapes, dtypes and order equal MMDetection 2.25's
// (oracle key manifests), a random checkpoint in that layout loads exactly, and every shipped
// config builds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "model_test_util.h"

namespace cppdet::models {
namespace {

using testing::read_key_manifest;
using testing::visible_model_config;

class FullSizeKeys : public ::testing::TestWithParam<std::string> {};

TEST_P(FullSizeKeys, StateDictEqualsMmdetManifest) {
  const std::string name = GetParam();
  std::shared_ptr<Detector> model = build_detector(visible_model_config(name));
  const io::StateDict sd = io::module_state_dict(*model);
  const std::vector<testing::KeyRow> expected = read_key_manifest(name);
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(sd.size(), expected.size());
  for (size_t i = 0; i < sd.size(); ++i) {
    SCOPED_TRACE(expected[i].key);
    EXPECT_EQ(sd[i].first, expected[i].key) << "at position " << i;
    EXPECT_EQ(sd[i].second.sizes().vec(), expected[i].shape);
    EXPECT_EQ(io::dtype_name(sd[i].second.scalar_type()), expected[i].dtype);
  }
}

TEST_P(FullSizeKeys, RandomCheckpointInManifestLayoutLoadsExactly) {
  const std::string name = GetParam();
  std::shared_ptr<Detector> model = build_detector(visible_model_config(name));
  io::StateDict ckpt;
  torch::manual_seed(0);
  for (const testing::KeyRow& row : read_key_manifest(name)) {
    torch::Tensor t = row.dtype == "int64" ? torch::full(row.shape, 7, torch::kLong) : torch::randn(row.shape);
    ckpt.emplace_back(row.key, t);
  }
  io::LoadReport report = io::load_state_dict(*model, ckpt, /*strict=*/true);
  EXPECT_TRUE(report.exact()) << report.message();
  // The values really arrived.
  const io::StateDict sd = io::module_state_dict(*model);
  for (size_t i = 0; i < sd.size(); i += 37) EXPECT_TRUE(torch::equal(sd[i].second, ckpt[i].second)) << sd[i].first;
}

INSTANTIATE_TEST_SUITE_P(OracleConfigs, FullSizeKeys,
                         ::testing::Values("faster_rcnn_r50_fpn_1x_coco", "mask_rcnn_r50_fpn_1x_coco",
                                           "retinanet_r50_fpn_1x_coco", "mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco",
                                           "fcos_r50_caffe_fpn_gn-head_1x_coco",
                                           "fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_1x_coco",
                                           "atss_r50_fpn_1x_coco", "gfl_r50_fpn_1x_coco"));

class ShippedConfigBuilds : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedConfigBuilds, BuildsAndRunsOnASmallImage) {
  std::shared_ptr<Detector> model = build_detector(visible_model_config(GetParam()));
  ImageMeta meta;
  meta.ori_shape = {64, 96, 3};
  meta.img_shape = {64, 96, 3};
  meta.pad_shape = {64, 96, 3};
  torch::manual_seed(1);
  std::vector<DetResult> r = model->simple_test(torch::randn({1, 3, 64, 96}), {meta});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(r[0].bboxes.size()), model->num_classes());
  EXPECT_EQ(r[0].has_masks(), model->with_mask());
}

INSTANTIATE_TEST_SUITE_P(
    VisibleConfigs, ShippedConfigBuilds,
    ::testing::Values("faster_rcnn_r50_caffe_fpn_1x_coco", "faster_rcnn_r50_fpn_1x_coco", "faster_rcnn_r50_fpn_1x_voc0712",
                      "faster_rcnn_r50_fpn_2x_coco", "mask_rcnn_r50_caffe_fpn_1x_coco",
                      "mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_balloon", "mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco",
                      "mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco", "mask_rcnn_r50_fpn_1x_cityscapes",
                      "mask_rcnn_r50_fpn_1x_coco", "retinanet_r50_fpn_1x_coco", "fcos_r50_caffe_fpn_gn-head_1x_coco",
                      "fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_1x_coco", "atss_r50_fpn_1x_coco",
                      "gfl_r50_fpn_1x_coco"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string n = info.param;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

TEST(FullSizeKeys, CaffeStylePutsStrideOnConv1) {
  std::shared_ptr<Detector> caffe = build_detector(visible_model_config("mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco"));
  std::shared_ptr<Detector> pytorch = build_detector(visible_model_config("mask_rcnn_r50_fpn_1x_coco"));
  auto stride_of = [](Detector& m, const std::string& name) {
    for (const auto& item : m.named_modules())
      if (item.key() == name) return item.value()->as<torch::nn::Conv2d>()->options.stride()->at(0);
    return int64_t{-1};
  };
  EXPECT_EQ(stride_of(*caffe, "backbone.layer2.0.conv1"), 2);
  EXPECT_EQ(stride_of(*caffe, "backbone.layer2.0.conv2"), 1);
  EXPECT_EQ(stride_of(*pytorch, "backbone.layer2.0.conv1"), 1);
  EXPECT_EQ(stride_of(*pytorch, "backbone.layer2.0.conv2"), 2);
}

}  // namespace
}  // namespace cppdet::models
