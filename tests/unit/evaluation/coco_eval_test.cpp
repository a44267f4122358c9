// COCOeval against pycocotools' recorded outputs for every case in tests/fixtures/coco/*/
// (expected_<iouType>[_<variant>].json): 12 stats, per-category figures, precision / recall /
// scores checksums and the printed summary.
#include "cppdet/evaluation/coco_eval.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cppdet/core/error.h"
#include "support/test_support.h"

namespace cppdet::evaluation {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::vector<std::string> expected_files() {
  std::vector<std::string> out;
  for (const auto& dir : fs::directory_iterator(cppdet::testing::fixture("coco"))) {
    if (!dir.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(dir.path()))
      if (f.path().filename().string().rfind("expected_", 0) == 0) out.push_back(f.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The expected file's params (iouThrs as hex floats) -> CocoEvalParams.
CocoEvalParams params_of(const json& e) {
  CocoEvalParams p = CocoEvalParams::defaults(e["iouType"] == "segm" ? IouType::kSegm : IouType::kBbox);
  const json& j = e["params"];
  p.use_cats = j["useCats"].get<int>() != 0;
  p.max_dets = j["maxDets"].get<std::vector<int64_t>>();
  p.area_rng.clear();
  for (const json& r : j["areaRng"]) p.area_rng.push_back({r[0].get<double>(), r[1].get<double>()});
  p.area_rng_lbl = j["areaRngLbl"].get<std::vector<std::string>>();
  p.iou_thrs.clear();
  for (const json& h : j["iouThrs_hex"]) p.iou_thrs.push_back(std::strtod(h.get<std::string>().c_str(), nullptr));
  return p;
}

class CocoEvalCase : public ::testing::TestWithParam<std::string> {};

TEST_P(CocoEvalCase, MatchesPycocotools) {
  const std::string path = GetParam();
  const json e = read_json(path);
  const std::string dir = fs::path(path).parent_path().string();
  const CocoGroundTruth gt = load_coco_ground_truth(dir + "/" + e["gt"].get<std::string>());
  const CocoResults dt = load_coco_results(dir + "/" + e["dt"].get<std::string>(), gt);
  CocoEvaluator ev(gt, dt, params_of(e));
  ev.evaluate();
  ev.accumulate();
  ev.summarize();

  const auto want_stats = e["stats"].get<std::vector<double>>();
  // Bit-identical (the acceptance bound is 1e-12; numpy's pairwise mean is reproduced exactly).
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(ev.stats()[i], want_stats[i]) << "stats[" << i << "]";
  EXPECT_EQ(ev.summary_lines(), e["summarize_stdout"].get<std::vector<std::string>>());

  const auto shape = ev.precision_shape();
  EXPECT_EQ(std::vector<size_t>(shape.begin(), shape.end()), e["counts"].get<std::vector<size_t>>());
  EXPECT_EQ(ev.k_category_ids(), e["catIds"].get<std::vector<int64_t>>());

  // Precision checksums and sampled entries [t, r, k, a, m, value].
  const json& pj = e["precision"];
  const auto& prec = ev.precision();
  double sum = 0;
  size_t neg = 0, zero = 0;
  for (double v : prec) {
    sum += v;
    neg += v == -1;
    zero += v == 0;
  }
  EXPECT_NEAR(sum, pj["sum"].get<double>(), 1e-7);
  EXPECT_EQ(neg, pj["count_neg1"].get<size_t>());
  EXPECT_EQ(zero, pj["count_zero"].get<size_t>());
  const size_t R = shape[1], K = shape[2], A = shape[3], M = shape[4];
  for (const json& s : pj["samples"]) {
    const size_t t = s[0], r = s[1], k = s[2], a = s[3], m = s[4];
    EXPECT_EQ(prec[(((t * R + r) * K + k) * A + a) * M + m], s[5].get<double>()) << s.dump();
  }
  // Recall values [T][K][A][M] exactly; scores checksum.
  const auto& rec = ev.recall();
  const auto want_rec = e["recall"]["values"];
  for (size_t t = 0; t < shape[0]; ++t)
    for (size_t k = 0; k < K; ++k)
      for (size_t a = 0; a < A; ++a)
        for (size_t m = 0; m < M; ++m)
          EXPECT_EQ(rec[((t * K + k) * A + a) * M + m], want_rec[t][k][a][m].get<double>());
  double ssum = 0;
  for (double v : ev.scores()) ssum += v;
  EXPECT_NEAR(ssum, e["scores"]["sum"].get<double>(), 1e-6);

  // Per-category figures.
  const auto ids = ev.k_category_ids();
  const int64_t last = ev.params().max_dets.back();
  for (size_t k = 0; k < ids.size(); ++k) {
    const json& c = e["per_category"][std::to_string(ids[k])];
    SCOPED_TRACE("category " + std::to_string(ids[k]));
    EXPECT_EQ(ev.category_metric(true, k, "all", last), c["ap"].get<double>());
    EXPECT_EQ(ev.category_metric(true, k, "all", last, 0.5), c["ap50"].get<double>());
    EXPECT_EQ(ev.category_metric(true, k, "all", last, 0.75), c["ap75"].get<double>());
    for (const char* area : {"all", "small", "medium", "large"}) {
      EXPECT_EQ(ev.category_metric(true, k, area, last), c[std::string("ap_") + area].get<double>());
      EXPECT_EQ(ev.category_metric(false, k, area, last), c[std::string("ar_") + area].get<double>());
    }
    for (int64_t md : ev.params().max_dets)
      EXPECT_EQ(ev.category_metric(false, k, "all", md), c["ar_all_maxDets" + std::to_string(md)].get<double>());
  }
  const auto per_cat = ev.per_category_ap();
  ASSERT_EQ(per_cat.size(), ids.size());
  EXPECT_EQ(per_cat[0].ap, ev.category_metric(true, 0, "all", last));
}

TEST_P(CocoEvalCase, ThreadCountDoesNotChangeResults) {
  const std::string path = GetParam();
  const json e = read_json(path);
  const std::string dir = fs::path(path).parent_path().string();
  const CocoGroundTruth gt = load_coco_ground_truth(dir + "/" + e["gt"].get<std::string>());
  const CocoResults dt = load_coco_results(dir + "/" + e["dt"].get<std::string>(), gt);
  std::vector<std::vector<double>> precisions;
  for (int threads : {1, 3}) {
    CocoEvaluator ev(gt, dt, params_of(e));
    ev.set_num_threads(threads);
    ev.evaluate();
    ev.accumulate();
    precisions.push_back(ev.precision());
  }
  EXPECT_EQ(precisions[0], precisions[1]);
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  const fs::path p(info.param);
  std::string name = p.parent_path().filename().string() + "_" + p.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(OracleCases, CocoEvalCase, ::testing::ValuesIn(expected_files()), case_name);

TEST(CocoEval, LinspaceMatchesNumpy) {
  const auto iou = numpy_linspace(.5, .95, 10);
  EXPECT_EQ(iou[8], 0x1.cccccccccccccp-1);  // 0.8999999999999999
  EXPECT_EQ(iou[7], 0.85);
  const auto rec = numpy_linspace(0, 1, 101);
  EXPECT_EQ(rec[35], 0.35000000000000003);
  EXPECT_EQ(rec[70], 0.7000000000000001);
}

TEST(CocoEval, SummaryNeedsThreeMaxDets) {
  const CocoGroundTruth gt = parse_coco_ground_truth(
      R"({"images":[{"id":1,"width":10,"height":10}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,5,5],"area":25,"iscrowd":0}],"categories":[{"id":1,"name":"a"}]})",
      "gt.json");
  const CocoResults dt = parse_coco_results(R"([{"image_id":1,"category_id":1,"bbox":[0,0,5,5],"score":0.5}])", "dt.json", gt);
  CocoEvalParams p = CocoEvalParams::defaults(IouType::kBbox);
  p.max_dets = {1, 10};
  CocoEvaluator ev(gt, dt, p);
  ev.evaluate();
  ev.accumulate();
  EXPECT_THROW(ev.summarize(), UserError);
  // One perfect detection: precision tp/(tp+fp+eps) = 0.9999999999999998, as pycocotools.
  const CocoEvalSummary s = evaluate_coco(gt, dt, CocoEvalParams::defaults(IouType::kBbox));
  EXPECT_EQ(s.stats[0], 0.9999999999999998);
  EXPECT_EQ(s.stats[8], 1.0);
}

TEST(CocoEval, ProposalModePoolsCategories) {
  const CocoGroundTruth gt = parse_coco_ground_truth(
      R"({"images":[{"id":1,"width":100,"height":100}],
          "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,50,50],"area":2500,"iscrowd":0},
                         {"id":2,"image_id":1,"category_id":2,"bbox":[50,50,40,40],"area":1600,"iscrowd":0}],
          "categories":[{"id":1,"name":"a"},{"id":2,"name":"b"}]})",
      "gt.json");
  const CocoResults dt = parse_coco_results(
      R"([{"image_id":1,"category_id":1,"bbox":[0,0,50,50],"score":0.9},{"image_id":1,"category_id":1,"bbox":[50,50,40,40],"score":0.8}])",
      "dt.json", gt);
  const CocoEvalSummary s = evaluate_coco(gt, dt, CocoEvalParams::proposal());
  EXPECT_EQ(s.stats[8], 1.0);  // AR@1000: both gts found although the second has category 2
  EXPECT_EQ(s.lines[8], " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=1000 ] = 1.000");
  ASSERT_EQ(s.per_category.size(), 1u);
  EXPECT_EQ(s.per_category[0].category_id, -1);
}

}  // namespace
}  // namespace cppdet::evaluation
