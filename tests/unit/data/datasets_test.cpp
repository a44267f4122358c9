// CocoDataset / CityscapesDataset / VOCDataset on hand-made annotation files
// (tests/fixtures/datasets): mmdet 2.25's class lookup, annotation filtering, training-mode
// image filtering, group flags, evaluation and errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppdet/config/config_file.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/datasets/cityscapes_dataset.h"
#include "cppdet/data/datasets/coco_dataset.h"
#include "cppdet/data/datasets/coco_results.h"
#include "cppdet/data/datasets/results_file.h"
#include "cppdet/data/datasets/voc_dataset.h"
#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/mmdet_coco_metrics.h"
#include "support/test_support.h"

namespace cppdet::data {
namespace {

using config::Value;

std::vector<float> values(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<int64_t> ints(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// A dataset dict from Python config text, e.g. "dict(type='CocoDataset', ann_file=...)".
Value dataset_cfg(const std::string& text) {
  return config::parse_config_text("d = " + text + "\n", "test.py").as_dict().at("d");
}

std::string coco_tiny() { return testing::fixture("datasets/coco_tiny/annotations.json"); }

std::shared_ptr<DetectionDataset> coco(bool test_mode, const std::string& extra = "") {
  return build_dataset(dataset_cfg("dict(type='CocoDataset', ann_file='" + coco_tiny() + "', img_prefix='imgs/'" +
                                   extra + ")"),
                       test_mode, "data.test");
}

TEST(CocoDataset, TestModeKeepsEveryImageInFileOrder) {
  auto ds = coco(true, ", classes=('cat', 'dog', 'bird')");
  ASSERT_EQ(ds->size(), 5u);
  EXPECT_EQ(ds->image_info(0).filename, "a.jpg");
  EXPECT_EQ(ds->image_info(4).id, 5);
  EXPECT_EQ(ds->image_info(1).width, 300);
  EXPECT_EQ(ds->group_flag(0), 1);  // 640 / 480 > 1
  EXPECT_EQ(ds->group_flag(1), 0);
  EXPECT_EQ(ds->type(), "CocoDataset");
  EXPECT_EQ(dynamic_cast<CocoDataset&>(*ds).cat_ids(), (std::vector<int64_t>{3, 1, 7}));
}

TEST(CocoDataset, AnnotationRulesOfParseAnnInfo) {
  auto ds = coco(true, ", classes=('cat', 'dog', 'bird')");
  const AnnInfo a = ds->ann_info(0);
  // Kept: 10 (cat, polygon) and 13 (dog, partly outside: not clipped). Skipped: 12 (w < 1),
  // 14 (outside), 15 (area 0), 16 (ignore flag). 11 is crowd -> ignore box.
  EXPECT_EQ(values(a.bboxes), (std::vector<float>{10, 20, 40, 60, 600, 400, 650, 450}));
  EXPECT_EQ(ints(a.labels), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(values(a.bboxes_ignore), (std::vector<float>{100.5f, 50.25f, 120.5f, 60.25f}));
  ASSERT_EQ(a.masks.size(), 2u);
  EXPECT_EQ(a.masks[0].kind, MaskAnnotation::Kind::kPolygons);
  EXPECT_EQ(a.masks[0].polygons, (std::vector<std::vector<double>>{{10, 20, 40, 20, 40, 60, 10, 60}}));
  EXPECT_EQ(a.seg_map, "a.png");
  EXPECT_EQ(a.height, 480);
  EXPECT_EQ(a.width, 640);

  const AnnInfo b = ds->ann_info(1);  // the unknown category 99 is skipped; RLE mask kept
  EXPECT_EQ(values(b.bboxes), (std::vector<float>{0, 0, 300, 400}));
  EXPECT_EQ(ints(b.labels), (std::vector<int64_t>{2}));
  ASSERT_EQ(b.masks.size(), 1u);
  EXPECT_EQ(b.masks[0].kind, MaskAnnotation::Kind::kRle);
  EXPECT_EQ(b.masks[0].rle.counts, (std::vector<uint32_t>{0, 120000}));
  EXPECT_EQ(ds->ann_info(3).bboxes.sizes().vec(), (std::vector<int64_t>{0, 4}));
}

TEST(CocoDataset, ClassesSelectCategoriesByNameInFileOrder) {
  // pycocotools' getCatIds keeps the json's category order: cat (3) before bird (7), whatever
  // the order of `classes`.
  auto ds = coco(true, ", classes=('bird', 'cat')");
  EXPECT_EQ(ds->classes(), (std::vector<std::string>{"bird", "cat"}));
  EXPECT_EQ(dynamic_cast<CocoDataset&>(*ds).cat_ids(), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(ints(ds->ann_info(0).labels), (std::vector<int64_t>{0}));  // the cat box; dog boxes dropped
  EXPECT_EQ(ints(ds->ann_info(1).labels), (std::vector<int64_t>{1}));
  EXPECT_EQ(ds->ann_info(0).bboxes_ignore.size(0), 0);  // the crowd box was a dog
}

TEST(CocoDataset, TrainingDropsSmallAndEmptyImages) {
  auto train = coco(false, ", classes=('cat', 'dog', 'bird')");
  // c.jpg is 20 px wide, d.jpg has no annotation; e.jpg (crowd only) stays.
  ASSERT_EQ(train->size(), 3u);
  EXPECT_EQ(train->image_info(0).filename, "a.jpg");
  EXPECT_EQ(train->image_info(1).filename, "b.jpg");
  EXPECT_EQ(train->image_info(2).filename, "e.jpg");
  EXPECT_EQ(train->group_flag(2), 1);

  auto keep_empty = coco(false, ", classes=('cat', 'dog', 'bird'), filter_empty_gt=False");
  EXPECT_EQ(keep_empty->size(), 4u);  // only the small image goes

  auto dogs = coco(false, ", classes=('dog',)");
  ASSERT_EQ(dogs->size(), 1u);  // b.jpg has no dog; e.jpg's crowd is a cat
  EXPECT_EQ(dogs->image_info(0).filename, "a.jpg");

  // Training samples carry their annotations for LoadAnnotations; test samples do not.
  EXPECT_TRUE(train->raw_sample(0).ann_info);
  EXPECT_FALSE(coco(true)->raw_sample(0).ann_info);
  EXPECT_EQ(train->raw_sample(0).img_prefix, "imgs/");
}

TEST(CocoDataset, DefaultClassesAreCoco80) {
  auto ds = coco(true);
  EXPECT_EQ(ds->classes().size(), 80u);
  EXPECT_EQ(ds->classes()[9], "traffic light");
  EXPECT_EQ(dynamic_cast<CocoDataset&>(*ds).cat_ids(), (std::vector<int64_t>{3, 1, 7}));  // cat, dog, bird
}

TEST(CocoDataset, DataRootIsJoinedToRelativePaths) {
  const std::string dir = testing::fixture("datasets/coco_tiny");
  auto ds = build_dataset(dataset_cfg("dict(type='CocoDataset', data_root='" + dir +
                                      "', ann_file='annotations.json', img_prefix='images/', classes=['cat'])"),
                          true);
  EXPECT_EQ(ds->options().img_prefix, dir + "/images/");
  EXPECT_EQ(ds->size(), 5u);
}

TEST(CocoDataset, ErrorsNameTheFileOrKey) {
  try {
    build_dataset(dataset_cfg("dict(type='CocoDataset', ann_file='/nonexistent/instances.json')"), true);
    FAIL() << "expected an error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/instances.json"), std::string::npos) << e.what();
  }
  const std::string dir = testing::make_temp_dir("datasets");
  {
    std::ofstream(dir + "/bad.json") << "{\"images\": [{\"id\": 1,,}]}";
    std::ofstream(dir + "/dup.json")
        << R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}], "categories": [{"id": 1, "name": "cat"}],
              "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25},
                              {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25}]})";
  }
  EXPECT_THROW(build_dataset(dataset_cfg("dict(type='CocoDataset', ann_file='" + dir + "/bad.json')"), true),
               FileFormatError);
  try {
    build_dataset(dataset_cfg("dict(type='CocoDataset', ann_file='" + dir + "/dup.json')"), true);
    FAIL() << "expected an error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("not unique"), std::string::npos) << e.what();
  }
  try {
    build_dataset(dataset_cfg("dict(type='LVISDataset', ann_file='x.json')"), true);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("data.test.type"), std::string::npos) << e.what();
  }
  EXPECT_THROW(build_dataset(dataset_cfg("dict(type='CocoDataset', ann_file='" + coco_tiny() + "', bogus=1)"), true),
               ConfigError);
}

// Results that reproduce the ground truth boxes of every image, scored 0.9.
std::vector<ImageDetections> perfect_results(const DetectionDataset& ds) {
  std::vector<ImageDetections> results;
  for (size_t i = 0; i < ds.size(); ++i) {
    const AnnInfo a = ds.ann_info(i);
    ImageDetections r;
    for (size_t c = 0; c < ds.classes().size(); ++c) {
      const torch::Tensor keep = a.labels == static_cast<int64_t>(c);
      const torch::Tensor boxes = a.bboxes.index({keep});
      r.bboxes.push_back(torch::cat({boxes, torch::full({boxes.size(0), 1}, 0.9f)}, 1).contiguous());
    }
    results.push_back(std::move(r));
  }
  return results;
}

TEST(CocoDataset, EvaluateGivesMmdetKeysAndMatchesTheWrittenJson) {
  auto ds = coco(true, ", classes=('cat', 'dog', 'bird')");
  const std::vector<ImageDetections> results = perfect_results(*ds);
  std::ostringstream log;
  const std::string prefix = testing::make_temp_dir("coco-eval") + "/res";
  EvalOptions o;
  o.metrics = {"bbox", "proposal"};
  o.jsonfile_prefix = prefix;
  o.classwise = true;
  const config::Dict m = ds->evaluate(results, o, &log);
  EXPECT_EQ(m.keys(), (std::vector<std::string>{"bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m",
                                                "bbox_mAP_l", "bbox_mAP_copypaste", "AR@100", "AR@300", "AR@1000",
                                                "AR_s@1000", "AR_m@1000", "AR_l@1000"}));
  EXPECT_NE(log.str().find("\nEvaluating bbox...\n"), std::string::npos);
  EXPECT_NE(log.str().find("| category | AP    |"), std::string::npos) << log.str();

  // The json file, evaluated as `cppdet eval-coco` does, gives the same stats.
  const evaluation::CocoGroundTruth gt = evaluation::load_coco_ground_truth(coco_tiny());
  const evaluation::CocoResults dt = evaluation::load_coco_results(prefix + ".bbox.json", gt);
  const auto summary = evaluation::evaluate_coco(gt, dt, evaluation::CocoEvalParams::defaults(evaluation::IouType::kBbox));
  EXPECT_DOUBLE_EQ(m.at("bbox_mAP").as_number(), evaluation::round3(summary.stats[0]));
  EXPECT_DOUBLE_EQ(m.at("bbox_mAP_50").as_number(), evaluation::round3(summary.stats[1]));
  EXPECT_DOUBLE_EQ(m.at("bbox_mAP_l").as_number(), evaluation::round3(summary.stats[5]));
  EXPECT_GT(m.at("bbox_mAP_50").as_number(), 0.3);  // boxes skipped by the dataset still count in COCOeval

  EXPECT_THROW(ds->evaluate(results, EvalOptions{{"segm"}}, nullptr), UserError);  // no masks
  EXPECT_THROW(ds->evaluate(results, EvalOptions{{"mAP"}}, nullptr), UserError);
  EXPECT_THROW(ds->evaluate(std::vector<ImageDetections>(2), EvalOptions{}, nullptr), UserError);
}

TEST(CocoDataset, ResultRecordsFollowResults2Json) {
  ImageDetections r;
  r.bboxes = {torch::tensor({{1.5f, 2.0f, 11.25f, 22.0f, 0.75f}}), torch::zeros({0, 5})};
  const uint8_t mask[6] = {0, 1, 1, 1, 0, 0};
  r.masks = {{evaluation::rle_encode(mask, 2, 3)}, {}};
  const CocoResultRecords rec = coco_result_records({r}, {42}, {5, 6});
  ASSERT_EQ(rec.bbox.annotations.size(), 1u);
  EXPECT_EQ(rec.bbox.annotations[0].image_id, 42);
  EXPECT_EQ(rec.bbox.annotations[0].category_id, 5);
  EXPECT_EQ(rec.bbox.annotations[0].bbox, (evaluation::BoxXywh{1.5, 2.0, 9.75, 20.0}));
  const std::string path = testing::make_temp_dir("records") + "/r.segm.json";
  write_coco_results_json(path, rec.segm);
  EXPECT_EQ(read_file(path),
            "[{\"image_id\": 42, \"bbox\": [1.5, 2.0, 9.75, 20.0], \"score\": 0.75, \"category_id\": 5, "
            "\"segmentation\": {\"size\": [2, 3], \"counts\": \"132\"}}]");
}

TEST(CocoDataset, ResultsFileRoundTrips) {
  auto ds = coco(true, ", classes=('cat', 'dog', 'bird')");
  std::vector<ImageDetections> results = perfect_results(*ds);
  const uint8_t mask[4] = {1, 0, 0, 1};
  for (ImageDetections& r : results) {
    r.masks.resize(3);
    for (size_t c = 0; c < 3; ++c) r.masks[c].assign(static_cast<size_t>(r.bboxes[c].size(0)), evaluation::rle_encode(mask, 2, 2));
  }
  const std::string path = testing::make_temp_dir("results-file") + "/results.json";
  write_results_file(path, *ds, results);
  const ResultsFile back = read_results_file(path);
  check_results_match(back, *ds, path);
  ASSERT_EQ(back.results.size(), results.size());
  for (size_t i = 0; i < results.size(); ++i)
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_TRUE(torch::equal(back.results[i].bboxes[c], results[i].bboxes[c]));
      ASSERT_EQ(back.results[i].masks[c].size(), results[i].masks[c].size());
      for (size_t k = 0; k < results[i].masks[c].size(); ++k)
        EXPECT_EQ(back.results[i].masks[c][k].counts, results[i].masks[c][k].counts);
    }
  auto other = coco(true, ", classes=('cat',)");
  EXPECT_NO_THROW(check_results_match(back, *other, path));  // same images
  EXPECT_THROW(read_results_file(coco_tiny()), FileFormatError);
}

TEST(CityscapesDataset, DropsAllCrowdImagesAndUsesArangeThresholds) {
  const Value cfg = dataset_cfg("dict(type='CityscapesDataset', ann_file='" + coco_tiny() +
                                "', classes=('cat', 'dog', 'bird'))");
  EXPECT_EQ(build_train_dataset(cfg).dataset->size(), 2u);  // e.jpg (crowd only) is dropped too
  auto test = build_dataset(cfg, true);
  EXPECT_EQ(test->size(), 5u);
  EXPECT_EQ(values(test->ann_info(0).bboxes),  // no inside-the-image check: annotation 14 stays
            (std::vector<float>{10, 20, 40, 60, 600, 400, 650, 450, 700, 10, 710, 20}));
  EXPECT_EQ(cityscapes_classes().size(), 8u);
  // np.arange(0.5, 0.96, 0.05) bit for bit (differs from linspace in the last bits).
  const std::vector<double> a = numpy_arange(0.5, 0.96, 0.05);
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(a[2], 0x1.3333333333334p-1);
  EXPECT_EQ(a[8], 0x1.cccccccccccd0p-1);
  EXPECT_EQ(a[9], 0x1.e66666666666ap-1);
}

std::string voc_root() { return testing::fixture("datasets/voc"); }

std::shared_ptr<DetectionDataset> voc(bool test_mode, const std::string& extra = "") {
  return build_dataset(dataset_cfg("dict(type='VOCDataset', ann_file='" + voc_root() +
                                   "/VOC2007/ImageSets/Main/test.txt', img_prefix='" + voc_root() + "/VOC2007/'" + extra +
                                   ")"),
                       test_mode);
}

TEST(VOCDataset, ParsesXmlWithVocRules) {
  auto ds = voc(true);
  ASSERT_EQ(ds->size(), 4u);
  EXPECT_EQ(dynamic_cast<XmlDataset&>(*ds).year(), 2007);
  EXPECT_EQ(ds->image_info(0).filename, "JPEGImages/000001.jpg");
  EXPECT_EQ(ds->image_info(0).width, 353);
  const AnnInfo a = ds->ann_info(0);
  EXPECT_EQ(values(a.bboxes), (std::vector<float>{47, 239, 194, 370, 7, 11, 351, 497}));  // 1-based -> -1
  EXPECT_EQ(ints(a.labels), (std::vector<int64_t>{11, 14}));  // dog, person
  const AnnInfo b = ds->ann_info(1);
  // int(float('60.7')) = 60; the difficult car is ignored; the unknown class is skipped.
  EXPECT_EQ(values(b.bboxes), (std::vector<float>{59, 19, 119, 79, 149, 49, 154, 89}));
  EXPECT_EQ(values(b.bboxes_ignore), (std::vector<float>{9, 9, 49, 39}));
  EXPECT_EQ(ints(b.labels_ignore), (std::vector<int64_t>{6}));
}

TEST(VOCDataset, TrainingFiltersAndMinSize) {
  auto train = voc(false, ", min_size=10");
  ASSERT_EQ(train->size(), 2u);  // 000003 is 20 px high; 000004 has only an unknown class
  const AnnInfo b = train->ann_info(1);
  EXPECT_EQ(values(b.bboxes), (std::vector<float>{59, 19, 119, 79}));
  EXPECT_EQ(values(b.bboxes_ignore), (std::vector<float>{9, 9, 49, 39, 149, 49, 154, 89}));  // 5 px wide < 10
  EXPECT_EQ(train->group_flag(0), 0);
  EXPECT_EQ(train->group_flag(1), 1);
}

TEST(VOCDataset, Voc2007MapUsesElevenPoints) {
  auto ds = voc(true);
  std::vector<ImageDetections> results(4);
  for (auto& r : results) r.bboxes.assign(20, torch::zeros({0, 5}));
  results[0].bboxes[11] = torch::tensor({{47.f, 239.f, 194.f, 370.f, 0.9f}});
  results[0].bboxes[14] = torch::tensor({{7.f, 11.f, 351.f, 497.f, 0.8f}});
  // car: a detection on the difficult box (ignored), a false positive, one of two cars found.
  results[1].bboxes[6] = torch::tensor({{9.f, 9.f, 49.f, 39.f, 0.99f}, {0.f, 0.f, 5.f, 5.f, 0.95f}, {59.f, 19.f, 119.f, 79.f, 0.7f}});
  std::ostringstream log;
  const config::Dict m = ds->evaluate(results, EvalOptions{}, &log);
  EXPECT_EQ(m.keys(), (std::vector<std::string>{"mAP", "AP50"}));
  // 11-point APs: dog 6 / 11 (000003's dog is missed: precision 1 up to recall 0.5), person 1,
  // car 6 * 0.5 / 11 (precision 0.5 up to recall 0.5).
  const double expected = (6.0 / 11 + 1.0 + 3.0 / 11) / 3;
  EXPECT_NEAR(m.at("mAP").as_number(), expected, 1e-6) << log.str();
  EXPECT_DOUBLE_EQ(m.at("AP50").as_number(), 0.606);
  EXPECT_NE(log.str().find("iou_thr: 0.5"), std::string::npos);
  EXPECT_NE(log.str().find("| car "), std::string::npos) << log.str();
  EXPECT_THROW(ds->evaluate(results, EvalOptions{{"bbox"}}, nullptr), UserError);
}

TEST(VOCDataset, YearAndErrors) {
  auto ds2012 = build_dataset(dataset_cfg("dict(type='VOCDataset', ann_file='" + voc_root() +
                                          "/VOC2012/ImageSets/Main/trainval.txt', img_prefix='" + voc_root() + "/VOC2012/')"),
                              true);
  EXPECT_EQ(dynamic_cast<XmlDataset&>(*ds2012).year(), 2012);
  EXPECT_THROW(build_dataset(dataset_cfg("dict(type='VOCDataset', ann_file='" + voc_root() +
                                         "/bad/ImageSets/Main/test.txt', img_prefix='" + voc_root() + "/bad/')"),
                             true),
               ConfigError);  // no year in the prefix
  try {
    build_dataset(dataset_cfg("dict(type='XMLDataset', classes=('dog',), ann_file='" + voc_root() +
                              "/bad/ImageSets/Main/test.txt', img_prefix='" + voc_root() + "/bad/')"),
                  true);
    FAIL() << "expected an error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("000001.xml"), std::string::npos) << e.what();
  }
  try {
    build_dataset(dataset_cfg("dict(type='XMLDataset', classes=('dog',), ann_file='/nonexistent/test.txt')"), true);
    FAIL() << "expected an error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/test.txt"), std::string::npos) << e.what();
  }
}

TEST(EvalOptions, ReadsEvaluateKeywordArguments) {
  const Value kwargs = dataset_cfg(
      "dict(metric=['bbox', 'segm'], classwise=True, jsonfile_prefix='out/res', iou_thrs=[0.5, 0.75], "
      "proposal_nums=(1, 10, 100), metric_items='mAP', logger='silent')");
  const EvalOptions o = eval_options_from_dict(kwargs.as_dict(), "evaluation");
  EXPECT_EQ(o.metrics, (std::vector<std::string>{"bbox", "segm"}));
  EXPECT_TRUE(o.classwise);
  EXPECT_EQ(o.jsonfile_prefix, "out/res");
  EXPECT_EQ(o.iou_thrs, (std::vector<double>{0.5, 0.75}));
  EXPECT_EQ(o.proposal_nums, (std::vector<int64_t>{1, 10, 100}));
  EXPECT_EQ(o.metric_items, (std::vector<std::string>{"mAP"}));
  EXPECT_EQ(eval_options_from_dict(dataset_cfg("dict(iou_thr=0.7)").as_dict(), "e").iou_thrs, (std::vector<double>{0.7}));
  EXPECT_THROW(eval_options_from_dict(dataset_cfg("dict(interval=1)").as_dict(), "e"), ConfigError);
  EXPECT_THROW(eval_options_from_dict(dataset_cfg("dict(classwise='yes')").as_dict(), "e"), ConfigError);
}

TEST(DatasetWrappers, RepeatAndListAnnFileConcat) {
  const TrainDataset t = build_train_dataset(dataset_cfg(
      "dict(type='RepeatDataset', times=3, dataset=dict(type='VOCDataset', ann_file=['" + voc_root() +
      "/VOC2007/ImageSets/Main/trainval.txt', '" + voc_root() + "/VOC2012/ImageSets/Main/trainval.txt'], img_prefix=['" +
      voc_root() + "/VOC2007/', '" + voc_root() + "/VOC2012/']))"));
  EXPECT_EQ(t.dataset->size(), 9u);  // (2 + 1) x 3
  EXPECT_EQ(t.classes.size(), 20u);
  EXPECT_EQ(t.dataset->group_flag(1), 1);
  EXPECT_EQ(t.dataset->group_flag(4), 1);
}

}  // namespace
}  // namespace cppdet::data
