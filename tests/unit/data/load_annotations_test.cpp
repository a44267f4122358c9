// LoadAnnotations: boxes, labels and ignore boxes copied from the dataset's annotations;
// polygons and RLEs rasterised to [n, H, W] bitmaps exactly as pycocotools decodes them
// (column-major RLE, transposed into row-major bitmaps).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/core/error.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/data/transforms/load_annotations.h"
#include "cppdet/evaluation/mask_rle.h"

namespace cppdet::data {
namespace {

std::shared_ptr<AnnInfo> two_instances() {
  auto ann = std::make_shared<AnnInfo>();
  ann->height = 6;
  ann->width = 8;
  ann->bboxes = torch::tensor({{1.f, 1.f, 4.f, 3.f}, {0.f, 0.f, 8.f, 6.f}});
  ann->labels = torch::tensor({2, 0}, torch::kInt64);
  ann->bboxes_ignore = torch::tensor({{5.f, 5.f, 6.f, 6.f}});
  MaskAnnotation poly;
  poly.kind = MaskAnnotation::Kind::kPolygons;
  poly.polygons = {{1, 1, 4, 1, 4, 3, 1, 3}, {6, 4, 7, 4, 7, 5, 6, 5}};
  MaskAnnotation rle;
  rle.kind = MaskAnnotation::Kind::kRle;
  // Column-major 6x8: the first column is set (6 ones), the rest 0.
  rle.rle = evaluation::Rle{6, 8, {0, 6, 42}};
  ann->masks = {poly, rle};
  return ann;
}

TEST(LoadAnnotations, CopiesBoxesLabelsAndRasterisesMasks) {
  Sample s;
  s.img_file = "x.jpg";
  s.ann_info = two_instances();
  LoadAnnotations({true, true, true}).apply(s);
  EXPECT_TRUE(torch::equal(s.gt_bboxes, s.ann_info->bboxes));
  EXPECT_TRUE(torch::equal(s.gt_labels, s.ann_info->labels));
  EXPECT_TRUE(torch::equal(s.gt_bboxes_ignore, s.ann_info->bboxes_ignore));
  ASSERT_EQ(s.gt_masks.sizes().vec(), (std::vector<int64_t>{2, 6, 8}));
  EXPECT_EQ(s.gt_masks.scalar_type(), torch::kUInt8);

  // Instance 0: the union of the two rings, decoded by pycocotools' rules, transposed.
  const evaluation::Rle a = evaluation::rle_from_polygon({1, 1, 4, 1, 4, 3, 1, 3}, 6, 8);
  const evaluation::Rle b = evaluation::rle_from_polygon({6, 4, 7, 4, 7, 5, 6, 5}, 6, 8);
  const std::vector<uint8_t> cm = evaluation::rle_decode(evaluation::rle_merge({a, b}, false));
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x)
      EXPECT_EQ(s.gt_masks[0][y][x].item<uint8_t>(), cm[static_cast<size_t>(x * 6 + y)]) << y << "," << x;
  // Instance 1: column 0 only.
  EXPECT_EQ(s.gt_masks[1].sum().item<int64_t>(), 6);
  EXPECT_EQ(s.gt_masks[1].select(1, 0).sum().item<int64_t>(), 6);
}

TEST(LoadAnnotations, OptionsAndErrors) {
  Sample boxes_only;
  boxes_only.ann_info = two_instances();
  LoadAnnotations({true, false, false}).apply(boxes_only);
  EXPECT_TRUE(boxes_only.gt_bboxes.defined());
  EXPECT_FALSE(boxes_only.gt_labels.defined());
  EXPECT_FALSE(boxes_only.gt_masks.defined());

  Sample no_ann;
  no_ann.img_file = "test.jpg";
  EXPECT_THROW(LoadAnnotations({}).apply(no_ann), UserError);

  auto wrong_size = two_instances();
  wrong_size->masks[1].rle.h = 5;
  Sample s;
  s.ann_info = wrong_size;
  EXPECT_THROW(LoadAnnotations({true, true, true}).apply(s), FileFormatError);
}

TEST(LoadAnnotations, BuiltFromConfigWithMmdetKeys) {
  config::List pipeline;
  config::Dict d;
  d.set("type", "LoadAnnotations");
  d.set("with_bbox", true);
  d.set("with_mask", true);
  pipeline.push_back(config::Value(d));
  auto compose = build_compose(config::Value::list(pipeline), "data.train.pipeline");
  Sample s;
  s.ann_info = two_instances();
  std::vector<Sample> out = (*compose)(s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].gt_masks.size(0), 2);

  d.set("poly2mask", false);  // polygon masks are loaded as bitmaps as well
  EXPECT_EQ((*build_compose(config::Value::list({config::Value(d)}), "p"))(s)[0].gt_masks.size(0), 2);
  d.erase("poly2mask");
  d.set("with_kp", true);
  EXPECT_THROW(build_compose(config::Value::list({config::Value(d)}), "p"), ConfigError);
}

}  // namespace
}  // namespace cppdet::data
