// Converted files load as MMDetection datasets: the VIA fixture and the VOC devkit through
// CocoDataset, the Cityscapes sample through CityscapesDataset, with the boxes the converters
// wrote (difficult / crowd as ignore boxes).
#include <gtest/gtest.h>

#include "cppdet/data/converters/cityscapes_to_coco.h"
#include "cppdet/data/converters/via_to_coco.h"
#include "cppdet/data/converters/voc_to_coco.h"
#include "cppdet/data/datasets/cityscapes_dataset.h"
#include "cppdet/data/datasets/coco_dataset.h"
#include "cppdet/data/datasets/voc_dataset.h"
#include "support/test_support.h"

namespace cppdet::data::converters {
namespace {

DatasetOptions test_options(const std::string& ann_file, std::vector<std::string> classes) {
  DatasetOptions o;
  o.ann_file = ann_file;
  o.classes = std::move(classes);
  o.pipeline = config::Value();
  o.test_mode = true;
  return o;
}

TEST(ConvertedDatasets, ViaFixtureAsCocoDataset) {
  const std::string dir = cppdet::testing::fixture("converters/via");
  const std::string out = cppdet::testing::make_temp_dir("ds-via") + "/train.json";
  write_json_file(out, via_to_coco({dir + "/via_region_data.json", dir, "balloon", 1}));
  const auto ds = CocoDataset::create(test_options(out, {"balloon"}));
  ASSERT_EQ(ds->size(), 2u);
  const AnnInfo a = ds->ann_info(0);
  ASSERT_EQ(a.bboxes.size(0), 2);
  // bbox [4, 6, 16, 24] -> x1y1x2y2.
  EXPECT_TRUE(torch::equal(a.bboxes[0], torch::tensor({4.f, 6.f, 20.f, 30.f})));
  EXPECT_EQ(a.labels[0].item<int64_t>(), 0);
  ASSERT_EQ(a.masks.size(), 2u);
  EXPECT_EQ(a.masks[0].kind, MaskAnnotation::Kind::kPolygons);
}

TEST(ConvertedDatasets, VocAsCocoDataset) {
  const auto all = voc_to_coco(cppdet::testing::fixture("converters/voc/VOCdevkit"));
  const std::string out = cppdet::testing::make_temp_dir("ds-voc") + "/voc07_trainval.json";
  for (const VocDataset& d : all)
    if (d.name == "voc07_trainval") write_json_file(out, d.coco);
  const auto ds = CocoDataset::create(test_options(out, voc_classes()));
  ASSERT_EQ(ds->size(), 2u);
  const AnnInfo a = ds->ann_info(1);
  ASSERT_EQ(a.bboxes.size(0), 2);  // tvmonitor, bird
  EXPECT_TRUE(torch::equal(a.bboxes[0], torch::tensor({59.f, 4.f, 109.f, 44.f})));
  EXPECT_EQ(a.labels[0].item<int64_t>(), 19);
  ASSERT_EQ(a.bboxes_ignore.size(0), 1);  // the difficult cat
  EXPECT_TRUE(torch::equal(a.bboxes_ignore[0], torch::tensor({10.f, 20.f, 50.f, 60.f})));
}

TEST(ConvertedDatasets, CityscapesSampleAsCityscapesDataset) {
  const auto splits = cityscapes_to_coco({cppdet::testing::fixture("converters/cityscapes"), "leftImg8bit", "gtFine", 1});
  const std::string out = cppdet::testing::make_temp_dir("ds-cs") + "/" + splits.at(0).json_name;
  write_json_file(out, splits[0].coco);
  DatasetOptions o = test_options(out, {});
  o.classes.reset();
  const auto ds = CityscapesDataset::create(o);
  ASSERT_EQ(ds->size(), 1u);
  const AnnInfo a = ds->ann_info(0);
  EXPECT_EQ(a.bboxes.size(0), 7);
  ASSERT_EQ(a.masks.size(), 7u);
  EXPECT_EQ(a.masks[0].kind, MaskAnnotation::Kind::kRle);
}

}  // namespace
}  // namespace cppdet::data::converters
