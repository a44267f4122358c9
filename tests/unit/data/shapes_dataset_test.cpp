// The synthetic shapes dataset: annotations agree with the pixels, output is deterministic, and
// the written COCO files evaluate to AP 1 against themselves.
#include "cppdet/data/synth/shapes_dataset.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "cppdet/core/error.h"
#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/coco_json.h"
#include "cppdet/evaluation/mask_rle.h"
#include "support/test_support.h"

namespace cppdet::data::synth {
namespace {

ShapesOptions small_options() {
  ShapesOptions o;
  o.num_train = 6;
  o.num_val = 3;
  o.seed = 7;
  o.width = 160;
  o.height = 128;
  return o;
}

// Column-major 0/1 bytes of `visible == id` (pycocotools' layout).
std::vector<uint8_t> column_major(const cv::Mat& visible, int id) {
  std::vector<uint8_t> out(static_cast<size_t>(visible.rows) * visible.cols);
  for (int x = 0; x < visible.cols; ++x)
    for (int y = 0; y < visible.rows; ++y) out[static_cast<size_t>(x) * visible.rows + y] = visible.at<int>(y, x) == id;
  return out;
}

TEST(ShapesDataset, AnnotationsDescribeTheVisiblePixels) {
  const ShapesOptions o = small_options();
  const auto h = static_cast<uint32_t>(o.height), w = static_cast<uint32_t>(o.width);
  int checked = 0;
  for (int64_t i = 0; i < 12; ++i) {
    const ShapesImage img = render_shapes_image(o, "train", i);
    ASSERT_EQ(img.bgr.type(), CV_8UC3);
    ASSERT_EQ(img.bgr.rows, o.height);
    ASSERT_EQ(img.bgr.cols, o.width);
    ASSERT_GE(img.annotations.size(), 1u);
    for (size_t k = 0; k < img.annotations.size(); ++k) {
      const ShapeAnnotation& a = img.annotations[k];
      SCOPED_TRACE("image " + std::to_string(i) + " shape " + std::to_string(k));
      EXPECT_GE(a.category_id, 1);
      EXPECT_LE(a.category_id, static_cast<int64_t>(shape_classes().size()));
      const std::vector<uint8_t> pixels = column_major(img.visible, static_cast<int>(k) + 1);
      const evaluation::Rle visible = evaluation::rle_encode(pixels.data(), h, w);
      const uint32_t visible_area = evaluation::rle_area(visible);
      ASSERT_GT(visible_area, 0u);
      // The box is the tight box of the visible pixels.
      const evaluation::BoxXywh tight = evaluation::rle_to_bbox(visible);
      for (int j = 0; j < 4; ++j) EXPECT_EQ(a.bbox[j], tight[j]);
      // Every polygon vertex lies inside the box.
      ASSERT_FALSE(a.polygons.empty());
      std::vector<evaluation::Rle> rings;
      for (const auto& ring : a.polygons) {
        ASSERT_GE(ring.size(), 6u);
        ASSERT_EQ(ring.size() % 2, 0u);
        for (size_t p = 0; p < ring.size(); p += 2) {
          EXPECT_GE(ring[p], a.bbox[0]);
          EXPECT_LE(ring[p], a.bbox[0] + a.bbox[2]);
          EXPECT_GE(ring[p + 1], a.bbox[1]);
          EXPECT_LE(ring[p + 1], a.bbox[1] + a.bbox[3]);
        }
        rings.push_back(evaluation::rle_from_polygon(ring, h, w));
      }
      // The area is that of the rasterised polygons, which reproduce the visible pixels.
      const evaluation::Rle poly = evaluation::rle_merge(rings, false);
      EXPECT_EQ(a.area, evaluation::rle_area(poly));
      EXPECT_NEAR(a.area, visible_area, 0.02 * visible_area);
      const evaluation::BoxXywh poly_box = evaluation::rle_to_bbox(poly);
      const double iou = evaluation::rle_iou(poly, poly_box, visible, tight, false);
      EXPECT_GE(iou, 0.98) << "visible " << visible_area << " polygon " << a.area;
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

TEST(ShapesDataset, SizesRangeFromTinyToLarge) {
  const ShapesOptions o = small_options();
  double smallest = 1e9, largest = 0;
  for (int64_t i = 0; i < 30; ++i)
    for (const auto& a : render_shapes_image(o, "train", i).annotations) {
      smallest = std::min(smallest, a.area);
      largest = std::max(largest, a.area);
    }
  EXPECT_LT(smallest, 32 * 32 / 4);
  EXPECT_GT(largest, 0.1 * o.width * o.height);
}

TEST(ShapesDataset, DeterministicForASeed) {
  const ShapesOptions o = small_options();
  const ShapesImage a = render_shapes_image(o, "val", 2), b = render_shapes_image(o, "val", 2);
  EXPECT_EQ(cv::norm(a.bgr, b.bgr, cv::NORM_INF), 0);
  ASSERT_EQ(a.annotations.size(), b.annotations.size());
  for (size_t k = 0; k < a.annotations.size(); ++k) EXPECT_EQ(a.annotations[k].polygons, b.annotations[k].polygons);
  ShapesOptions other = o;
  other.seed = 8;
  EXPECT_GT(cv::norm(a.bgr, render_shapes_image(other, "val", 2).bgr, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(a.bgr, render_shapes_image(o, "train", 2).bgr, cv::NORM_INF), 0);
}

TEST(ShapesDataset, WrittenFilesMatchAndEvaluateToApOne) {
  const ShapesOptions o = small_options();
  const std::string dir = cppdet::testing::make_temp_dir("shapes");
  write_shapes_dataset(dir, o);
  const evaluation::CocoGroundTruth gt = evaluation::load_coco_ground_truth(dir + "/annotations/instances_val.json");
  ASSERT_EQ(gt.images.size(), 3u);
  ASSERT_EQ(gt.categories.size(), shape_classes().size());
  EXPECT_EQ(gt.categories[3].name, "star");
  // PNGs are lossless: the files hold exactly the rendered pixels.
  const cv::Mat png = cv::imread(dir + "/val/" + gt.images[1].file_name, cv::IMREAD_COLOR);
  EXPECT_EQ(cv::norm(png, render_shapes_image(o, "val", 1).bgr, cv::NORM_INF), 0);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir + "/train/000005.png"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/train/000006.png"));

  // Each ground-truth instance as a detection with score 1: box and mask AP are exactly 1.
  nlohmann::json bbox = nlohmann::json::array(), segm = nlohmann::json::array();
  for (const auto& a : gt.annotations()) {
    const auto& img = gt.images[static_cast<size_t>(gt.image_index(a.image_id))];
    const evaluation::Rle rle = gt.store.to_rle(a, static_cast<uint32_t>(img.height), static_cast<uint32_t>(img.width));
    bbox.push_back({{"image_id", a.image_id}, {"category_id", a.category_id}, {"score", 1.0},
                    {"bbox", {a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]}}});
    segm.push_back({{"image_id", a.image_id}, {"category_id", a.category_id}, {"score", 1.0},
                    {"segmentation", {{"size", {rle.h, rle.w}}, {"counts", evaluation::rle_to_string(rle)}}}});
  }
  for (const auto& [kind, records] : {std::pair{evaluation::IouType::kBbox, bbox}, std::pair{evaluation::IouType::kSegm, segm}}) {
    const evaluation::CocoResults dt = evaluation::parse_coco_results(records.dump(), "self", gt);
    const evaluation::CocoEvalSummary s = evaluation::evaluate_coco(gt, dt, evaluation::CocoEvalParams::defaults(kind));
    EXPECT_DOUBLE_EQ(s.stats[0], 1.0);
    EXPECT_DOUBLE_EQ(s.stats[1], 1.0);
  }
}

TEST(ShapesDataset, RejectsBadOptions) {
  ShapesOptions o = small_options();
  o.width = 10;
  EXPECT_THROW(render_shapes_image(o, "train", 0), UserError);
  EXPECT_THROW(render_shapes_image(small_options(), "test", 0), UserError);
}

}  // namespace
}  // namespace cppdet::data::synth
