// Training loss parity with MMDetection 2.25 (oracle/train, copied to
// tests/fixtures/train_cases): the batch is built here as the train pipeline builds it
// (Resize (666, 400) keep_ratio on uint8, Normalize, Pad 32, polygons rasterised like
// pycocotools then nearest-resized and padded, collate zero padding), the tiny checkpoint is
// loaded and forward_train's loss terms, assignments, gradient norms, one SGD step and a
// second forward are compared with expected.json.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cppdet/config/config_file.h"
#include "cppdet/evaluation/mask_rle.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/models/detectors/two_stage.h"
#include "model_test_util.h"

namespace cppdet::models {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string train_case_dir(const std::string& name) {
  const std::string local = testing::fixture("train_cases/" + name);
  if (fs::exists(local + "/expected.json")) return local;
  const std::string shared = testing::shared_dir();
  if (!shared.empty() && fs::exists(shared + "/oracle/train/" + name + "/expected.json"))
    return shared + "/oracle/train/" + name;
  return "";
}

double rel_err(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-12); }

// One image through LoadImageFromFile, LoadAnnotations, Resize(666, 400, keep_ratio),
// RandomFlip(0), Normalize(to_rgb), Pad(32), DefaultFormatBundle.
struct Sample {
  torch::Tensor img;  // [3, pad_h, pad_w]
  ImageMeta meta;
  GtInstances gt;
};

Sample load_sample(const std::string& dir, const json& image, const json& anns, bool with_mask) {
  const std::vector<double> mean{123.675, 116.28, 103.53}, stdv{58.395, 57.12, 57.375};
  const std::string file = image["file_name"];
  cv::Mat bgr = cv::imread(dir + "/" + file, cv::IMREAD_COLOR);
  EXPECT_FALSE(bgr.empty()) << file;
  const int h = bgr.rows, w = bgr.cols;
  const double scale = std::min(666.0 / std::max(h, w), 400.0 / std::min(h, w));
  const int new_w = static_cast<int>(w * scale + 0.5), new_h = static_cast<int>(h * scale + 0.5);
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(new_w, new_h), 0, 0, cv::INTER_LINEAR);
  const int pad_h = (new_h + 31) / 32 * 32, pad_w = (new_w + 31) / 32 * 32;
  Sample s;
  s.img = torch::zeros({3, pad_h, pad_w});
  auto acc = s.img.accessor<float, 3>();
  for (int y = 0; y < new_h; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int x = 0; x < new_w; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = static_cast<float>(row[x * 3 + (2 - c)]) - static_cast<float>(mean[c]);
        acc[c][y][x] = static_cast<float>(static_cast<double>(v) * (1.0 / stdv[c]));
      }
  }
  s.meta.filename = dir + "/" + file;
  s.meta.ori_shape = {h, w, 3};
  s.meta.img_shape = {new_h, new_w, 3};
  s.meta.pad_shape = {pad_h, pad_w, 3};
  const float ws = static_cast<float>(static_cast<double>(new_w) / w), hs = static_cast<float>(static_cast<double>(new_h) / h);
  s.meta.scale_factor = {ws, hs, ws, hs};

  std::vector<float> boxes;
  std::vector<int64_t> labels;
  std::vector<torch::Tensor> masks;
  for (const json& a : anns) {
    if (a["image_id"] != image["id"]) continue;
    const auto b = a["bbox"].get<std::vector<double>>();
    const float box[4] = {static_cast<float>(b[0]), static_cast<float>(b[1]), static_cast<float>(b[0] + b[2]),
                          static_cast<float>(b[1] + b[3])};
    for (int k = 0; k < 4; ++k) {
      const float limit = static_cast<float>(k % 2 == 0 ? new_w : new_h);
      boxes.push_back(std::clamp(box[k] * s.meta.scale_factor[k], 0.0f, limit));
    }
    labels.push_back(a["category_id"].get<int64_t>() - 1);  // categories a, b, c have ids 1, 2, 3
    if (with_mask) {
      const auto poly = a["segmentation"][0].get<std::vector<double>>();
      const evaluation::Rle rle = evaluation::rle_from_polygon(poly, static_cast<uint32_t>(h), static_cast<uint32_t>(w));
      const std::vector<uint8_t> col_major = evaluation::rle_decode(rle);
      cv::Mat mask(h, w, CV_8U);
      for (int x = 0; x < w; ++x)
        for (int y = 0; y < h; ++y) mask.at<uint8_t>(y, x) = col_major[static_cast<size_t>(x) * h + y];
      cv::Mat mask_resized;
      cv::resize(mask, mask_resized, cv::Size(new_w, new_h), 0, 0, cv::INTER_NEAREST);
      torch::Tensor m = torch::zeros({pad_h, pad_w}, torch::kUInt8);
      for (int y = 0; y < new_h; ++y)
        std::memcpy(m[y].data_ptr<uint8_t>(), mask_resized.ptr<uint8_t>(y), static_cast<size_t>(new_w));
      masks.push_back(m);
    }
  }
  const int64_t k = static_cast<int64_t>(labels.size());
  s.gt.bboxes = torch::from_blob(boxes.data(), {k, 4}, torch::kFloat32).clone();
  s.gt.labels = torch::tensor(labels, torch::kLong);
  s.gt.bboxes_ignore = torch::zeros({0, 4});
  if (with_mask) s.gt.masks = torch::stack(masks);
  return s;
}

// mmcv collate: images zero-padded bottom/right to the batch maximum.
DetBatch collate(const std::vector<Sample>& samples) {
  int64_t h = 0, w = 0;
  for (const Sample& s : samples) h = std::max(h, s.img.size(1)), w = std::max(w, s.img.size(2));
  DetBatch batch;
  batch.img = torch::zeros({static_cast<int64_t>(samples.size()), 3, h, w});
  for (size_t i = 0; i < samples.size(); ++i) {
    batch.img[static_cast<int64_t>(i)].narrow(1, 0, samples[i].img.size(1)).narrow(2, 0, samples[i].img.size(2)).copy_(samples[i].img);
    batch.metas.push_back(samples[i].meta);
    batch.gts.push_back(samples[i].gt);
  }
  return batch;
}

// mmdet's _parse_losses total: float32 sum of the terms whose name contains "loss".
torch::Tensor total_loss(const LossTerms& terms) {
  torch::Tensor total;
  for (const auto& [name, t] : terms)
    if (name.find("loss") != std::string::npos) total = total.defined() ? total + t : t;
  return total;
}

double term(const LossTerms& terms, const std::string& name) {
  for (const auto& [n, t] : terms)
    if (n == name) return t.item<double>();
  ADD_FAILURE() << "missing loss term " << name;
  return NAN;
}

// `tol` for every term and the total; `loose` overrides it for some terms.
void expect_terms(const LossTerms& got, const json& ref, double tol, const std::string& what,
                  const std::map<std::string, double>& loose = {}) {
  SCOPED_TRACE(what);
  std::vector<std::string> names;
  for (const auto& [n, t] : got) names.push_back(n);
  EXPECT_EQ(names, ref["key_order"].get<std::vector<std::string>>());
  for (const auto& [name, value] : ref["terms"].items()) {
    const double want = value.is_object() ? value["sum"].get<double>() : value.get<double>();
    const double got_v = term(got, name);
    const double t = loose.count(name) ? loose.at(name) : tol;
    EXPECT_LE(rel_err(got_v, want), t) << name << ": got " << got_v << " want " << want;
    std::printf("[%s] %-14s got %.9g want %.9g rel %.3g\n", what.c_str(), name.c_str(), got_v, want, rel_err(got_v, want));
  }
  const double total = total_loss(got).item<double>();
  EXPECT_LE(rel_err(total, ref["total"].get<double>()), tol) << "total loss";
}

// rpn_assign / rcnn_assign records from the assigner outputs in `trace`.
void expect_assign(const DebugTrace& trace, const json& ref, const std::string& prefix, bool rpn) {
  for (size_t b = 0; b < ref.size(); ++b) {
    SCOPED_TRACE(prefix + " image " + std::to_string(b));
    const torch::Tensor* gt_inds_p = trace.find(prefix + ".assign.gt_inds." + std::to_string(b));
    ASSERT_NE(gt_inds_p, nullptr);
    const torch::Tensor gt_inds = gt_inds_p->cpu();
    const json& r = ref[b];
    EXPECT_EQ(gt_inds.numel(), (rpn ? r["num_valid_anchors"] : r["num_proposals"]).get<int64_t>());
    EXPECT_EQ((gt_inds > 0).sum().item<int64_t>(), r["num_pos"].get<int64_t>());
    EXPECT_EQ((gt_inds == 0).sum().item<int64_t>(), r["num_neg"].get<int64_t>());
    EXPECT_EQ((gt_inds == -1).sum().item<int64_t>(), r["num_ignored"].get<int64_t>());
    const auto pos_per_gt = r["pos_per_gt"].get<std::vector<int64_t>>();
    for (size_t g = 0; g < pos_per_gt.size(); ++g)
      EXPECT_EQ((gt_inds == static_cast<int64_t>(g) + 1).sum().item<int64_t>(), pos_per_gt[g]) << "gt " << g;
    if (rpn) {
      const torch::Tensor overlaps = trace.find(prefix + ".assign.max_overlaps." + std::to_string(b))->cpu();
      const double sum = overlaps.index({gt_inds > 0}).to(torch::kFloat64).sum().item<double>();
      EXPECT_LE(rel_err(sum, r["max_overlaps_pos_sum"].get<double>()), 1e-5);
    } else {
      const torch::Tensor labels = trace.find("roi_head.sampling.pos_gt_labels." + std::to_string(b))->cpu();
      EXPECT_EQ(std::vector<int64_t>(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel()),
                r["pos_labels"].get<std::vector<int64_t>>());
    }
  }
}

std::map<std::string, torch::Tensor> named_params(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  return out;
}

void expect_param_stats(std::map<std::string, torch::Tensor>& params, const json& ref, double tol,
                        const std::string& what) {
  SCOPED_TRACE(what);
  for (const auto& [name, stats] : ref.items()) {
    ASSERT_TRUE(params.count(name)) << name;
    const torch::Tensor p = params[name].detach().to(torch::kFloat64);
    const double l2 = p.norm().item<double>(), sum = p.sum().item<double>();
    EXPECT_LE(rel_err(l2, stats["l2"].get<double>()), tol) << name << " l2";
    EXPECT_NEAR(sum, stats["sum"].get<double>(), tol * (std::abs(stats["sum"].get<double>()) + l2)) << name << " sum";
  }
}

class TrainParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainParity, LossesGradientsAndOneSgdStepMatchMmdet) {
  const std::string dir = train_case_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "train case " << GetParam() << " not found";
  torch::set_num_threads(2);
  const json ref = json::parse(testing::read_text(dir + "/expected.json"));
  const json anns = json::parse(testing::read_text(dir + "/annotations.json"));
  const config::Value cfg = config::load_config(dir + "/train_config.py");
  const bool with_mask = GetParam().find("mask") != std::string::npos;

  // --- the batch
  std::vector<Sample> samples;
  for (const json& image : anns["images"]) samples.push_back(load_sample(dir, image, anns["annotations"], with_mask));
  const DetBatch batch = collate(samples);
  const json& in = ref["inputs"];
  ASSERT_EQ(batch.img.sizes().vec(), in["batch_shape"].get<std::vector<int64_t>>());
  const torch::Tensor img64 = batch.img.to(torch::kFloat64);
  // float64 sums of 1.98M float32 values: equal to ~1e-8 (a few pixels differ in the last bits).
  EXPECT_LE(rel_err(img64.sum().item<double>(), in["batch_sum"].get<double>()), 1e-7);
  EXPECT_LE(rel_err(img64.abs().sum().item<double>(), in["batch_abs_sum"].get<double>()), 1e-7);
  for (size_t b = 0; b < samples.size(); ++b) {
    const json& m = in["img_metas"][b];
    const ImageMeta& meta = batch.metas[b];
    EXPECT_EQ(std::vector<int64_t>(meta.img_shape.begin(), meta.img_shape.end()), m["img_shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(std::vector<int64_t>(meta.pad_shape.begin(), meta.pad_shape.end()), m["pad_shape"].get<std::vector<int64_t>>());
    const auto boxes = in["gt_bboxes"][b].get<std::vector<std::vector<double>>>();
    for (size_t k = 0; k < boxes.size(); ++k)
      for (int c = 0; c < 4; ++c)
        EXPECT_NEAR(batch.gts[b].bboxes[k][c].item<double>(), boxes[k][c], 1e-4) << "gt box " << b << "," << k;
    EXPECT_EQ(std::vector<int64_t>(batch.gts[b].labels.data_ptr<int64_t>(), batch.gts[b].labels.data_ptr<int64_t>() + 4),
              in["gt_labels"][b].get<std::vector<int64_t>>());
    if (with_mask) {
      const json& gm = in["gt_masks"][b];
      EXPECT_EQ(batch.gts[b].masks.size(1), gm["height"].get<int64_t>());
      EXPECT_EQ(batch.gts[b].masks.size(2), gm["width"].get<int64_t>());
      const auto sums = gm["pixel_sums"].get<std::vector<int64_t>>();
      for (size_t k = 0; k < sums.size(); ++k)
        EXPECT_EQ(batch.gts[b].masks[static_cast<int64_t>(k)].sum().item<int64_t>(), sums[k]) << "mask " << b << "," << k;
    }
  }

  // --- the model in train mode: frozen stem + layer1, BN statistics frozen
  std::shared_ptr<Detector> model = build_detector(cfg.as_dict().at("model"));
  const io::LoadReport report = io::load_state_dict(*model, io::read_checkpoint(dir + "/checkpoint.pth").state_dict, true);
  ASSERT_TRUE(report.exact()) << report.message();
  model->train();
  auto params = named_params(*model);
  std::vector<std::string> frozen;
  int64_t total = 0, trainable = 0;
  for (const auto& p : model->named_parameters()) {
    total += p.value().numel();
    if (p.value().requires_grad()) trainable += p.value().numel();
    else frozen.push_back(p.key());
  }
  EXPECT_EQ(frozen, ref["requires_grad_false"].get<std::vector<std::string>>());
  EXPECT_EQ(total, ref["num_params"]["total"].get<int64_t>());
  EXPECT_EQ(trainable, ref["num_params"]["trainable"].get<int64_t>());
  expect_param_stats(params, ref["params_before"], 1e-9, "params_before");
  std::map<std::string, torch::Tensor> buffers_before, frozen_before;
  for (const auto& b : model->named_buffers()) buffers_before[b.key()] = b.value().clone();
  for (const auto& name : frozen) frozen_before[name] = params[name].detach().clone();

  // --- forward 1 + backward
  auto& two_stage = dynamic_cast<TwoStageDetector&>(*model);
  DebugTrace trace1;
  const LossTerms f1 = two_stage.forward_train(batch, &trace1);
  expect_terms(f1, ref["forward1"], 1e-4, "forward1");
  expect_assign(trace1, ref["rpn_assign"], "rpn_head", true);
  expect_assign(trace1, ref["rcnn_assign"], "roi_head", false);
  for (size_t b = 0; b < ref["rpn_proposals"].size(); ++b) {
    const json& r = ref["rpn_proposals"][b];
    const torch::Tensor p = trace1.find("rpn_proposals." + std::to_string(b))->to(torch::kFloat64);
    ASSERT_EQ(p.size(0), r["num"].get<int64_t>());
    EXPECT_LE(rel_err(p.narrow(1, 0, 4).sum().item<double>(), r["box_sum"].get<double>()), 1e-5);
    EXPECT_LE(rel_err(p.select(1, 4).sum().item<double>(), r["score_sum"].get<double>()), 1e-4);
  }

  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.02).momentum(0.9).weight_decay(1e-4));
  sgd.zero_grad();
  total_loss(f1).backward();
  double sq = 0;
  for (const auto& p : model->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    ASSERT_TRUE(p.value().grad().defined()) << p.key() << " got no gradient";
    sq += p.value().grad().to(torch::kFloat64).pow(2).sum().item<double>();
  }
  const double total_norm = std::sqrt(sq);
  std::printf("[grad] total norm got %.9g want %.9g rel %.3g\n", total_norm, ref["total_grad_norm"].get<double>(),
              rel_err(total_norm, ref["total_grad_norm"].get<double>()));
  // This runs on the CPU's native oneDNN kernels; the oracle came from its AVX2 kernels, which
  // round differently by ~1e-6. Heads and neck agree to ~3e-6, but that rounding flips a few
  // ReLUs that gate the first trainable backbone convs' gradients (layer2: 1.7e-3), hence 3e-3
  // there. With ONEDNN_MAX_CPU_ISA=AVX2 everything is bit-identical (test_e2e TrainParity).
  EXPECT_LE(rel_err(total_norm, ref["total_grad_norm"].get<double>()), 1e-3);
  double worst = 0;
  for (const auto& [name, want] : ref["grad_norms"].items()) {
    ASSERT_TRUE(params.count(name)) << name;
    const double got = params[name].grad().to(torch::kFloat64).norm().item<double>();
    worst = std::max(worst, rel_err(got, want.get<double>()));
    std::printf("[grad] %-45s got %.9g want %.9g rel %.3g\n", name.c_str(), got, want.get<double>(), rel_err(got, want.get<double>()));
    const bool early_backbone = name.rfind("backbone.layer2", 0) == 0 || name.rfind("backbone.layer3", 0) == 0;
    EXPECT_LE(rel_err(got, want.get<double>()), early_backbone ? 3e-3 : 1e-4) << "grad norm of " << name;
  }
  std::printf("[grad] max rel error of the listed grad norms %.3g\n", worst);

  // --- one SGD step (lr 0.02 flat), then forward 2 on the same batch
  sgd.step();
  expect_param_stats(params, ref["params_after_step1"], 1e-3, "params_after_step1");
  for (const auto& [name, before] : frozen_before) EXPECT_TRUE(torch::equal(params[name], before)) << name;
  DebugTrace trace2;
  const LossTerms f2 = two_stage.forward_train(batch, &trace2);
  // The step at lr 0.02 is in an unstable regime (the loss more than doubles), so the 1e-3
  // gradient differences above grow to a few 1e-3 in the second forward, and RCNN positives
  // near IoU 0.5 may flip, which moves loss_bbox / acc by one RoI's share; the RPN assignment
  // (fixed anchors) must still match exactly.
  expect_terms(f2, ref["forward2"], 1e-2, "forward2", {{"loss_bbox", 0.2}, {"acc", 2e-2}});
  expect_assign(trace2, ref["forward2"]["rpn_assign"], "rpn_head", true);
  for (size_t b = 0; b < ref["forward2"]["rcnn_assign"].size(); ++b) {
    const torch::Tensor gt_inds = trace2.find("roi_head.assign.gt_inds." + std::to_string(b))->cpu();
    EXPECT_NEAR((gt_inds > 0).sum().item<int64_t>(), ref["forward2"]["rcnn_assign"][b]["num_pos"].get<int64_t>(), 1)
        << "forward2 RCNN positives, image " << b;
  }
  for (const auto& b : model->named_buffers())
    EXPECT_TRUE(torch::equal(b.value(), buffers_before[b.key()])) << b.key() << " changed (norm_eval)";
}

INSTANTIATE_TEST_SUITE_P(Oracle, TrainParity, ::testing::Values("faster_tiny_r50_train", "mask_tiny_r50_train"));

// Cascade Mask R-CNN's training forward (oracle/train/cascade_mask_tiny_r50_train): the loss
// terms in MMDetection's order and the per-stage bookkeeping NOTES_cascade.md lists as easy to
// get wrong: each stage assigns its own proposals with its own IoU thresholds, the sampler
// prepends the gts, refine_bboxes returns the sampled order without the gt rows. The losses,
// gradients and SGD steps are checked bit for bit under the oracle's kernels by test_e2e
// CascadeTrainParity; this runs on the native kernels (an accuracy may flip by one RoI).
TEST(CascadeTrainParity, StageAssignmentsRefinedProposalsAndLosses) {
  const std::string dir = train_case_dir("cascade_mask_tiny_r50_train");
  if (dir.empty()) GTEST_SKIP() << "train case cascade_mask_tiny_r50_train not found";
  torch::set_num_threads(2);
  const json ref = json::parse(testing::read_text(dir + "/expected.json"));
  const json anns = json::parse(testing::read_text(dir + "/annotations.json"));
  const config::Value cfg = config::load_config(dir + "/train_config.py");
  std::vector<Sample> samples;
  for (const json& image : anns["images"]) samples.push_back(load_sample(dir, image, anns["annotations"], true));
  const DetBatch batch = collate(samples);

  std::shared_ptr<Detector> model = build_detector(cfg.as_dict().at("model"));
  const io::LoadReport report = io::load_state_dict(*model, io::read_checkpoint(dir + "/checkpoint.pth").state_dict, true);
  ASSERT_TRUE(report.exact()) << report.message();
  model->train();
  DebugTrace trace;
  LossTerms f1;
  {
    torch::NoGradGuard no_grad;
    f1 = dynamic_cast<TwoStageDetector&>(*model).forward_train(batch, &trace);
  }
  // One RoI of 4008 moves an accuracy by 0.025 points (3e-4 of ~80).
  expect_terms(f1, ref["forward1"], 1e-4, "forward1", {{"s0.acc", 1e-3}, {"s1.acc", 1e-3}, {"s2.acc", 1e-3}});

  // One of image 0's 2000 RPN proposals (rpn_proposal max_per_img 2000) is another box than
  // MMDetection's, even on the oracle's kernels: same score sum to 3e-8, box sum 546 px (2.5e-4)
  // apart; three of its proposals share a score, so an NMS tie order is the likely cause. It
  // moves the stage losses by <= 5e-5 and no assignment count.
  const double box_sum_tol = 5e-4;
  auto as_ints = [](const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kLong).cpu().contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  };
  for (size_t s = 0; s < ref["rcnn_assign"].size(); ++s) {
    for (size_t b = 0; b < ref["rcnn_assign"][s].size(); ++b) {
      const json& r = ref["rcnn_assign"][s][b];
      const std::string key = "roi_head.s" + std::to_string(s) + ".";
      const std::string img = "." + std::to_string(b);
      SCOPED_TRACE("stage " + std::to_string(s) + " image " + std::to_string(b));
      const torch::Tensor proposals = trace.find(key + "proposals" + img)->to(torch::kFloat64).cpu();
      ASSERT_EQ(proposals.size(0), r["num_proposals"].get<int64_t>());
      EXPECT_LE(rel_err(proposals.narrow(1, 0, 4).sum().item<double>(), r["proposals_box_sum"].get<double>()), box_sum_tol);
      const torch::Tensor gt_inds = trace.find(key + "assign.gt_inds" + img)->cpu();
      EXPECT_EQ(gt_inds.numel(), r["num_proposals"].get<int64_t>() + r["num_gt_added"].get<int64_t>());
      EXPECT_EQ((gt_inds > 0).sum().item<int64_t>(), r["num_pos"].get<int64_t>());
      EXPECT_EQ((gt_inds == 0).sum().item<int64_t>(), r["num_neg"].get<int64_t>());
      EXPECT_EQ((gt_inds == -1).sum().item<int64_t>(), r["num_ignored"].get<int64_t>());
      const auto pos_per_gt = r["pos_per_gt"].get<std::vector<int64_t>>();
      for (size_t g = 0; g < pos_per_gt.size(); ++g)
        EXPECT_EQ((gt_inds == static_cast<int64_t>(g) + 1).sum().item<int64_t>(), pos_per_gt[g]) << "gt " << g;
      EXPECT_EQ(as_ints(*trace.find(key + "sampling.pos_gt_labels" + img)), r["pos_labels"].get<std::vector<int64_t>>());
      EXPECT_EQ(as_ints(*trace.find(key + "sampling.pos_is_gt" + img)), r["pos_is_gt"].get<std::vector<int64_t>>());
    }
  }
  // refine_bboxes' output of stage s = the proposals of stage s + 1.
  for (const auto& [stage, per_image] : ref["refined_proposals"].items()) {
    const int64_t next = std::stoll(stage.substr(1)) + 1;
    for (size_t b = 0; b < per_image.size(); ++b) {
      SCOPED_TRACE("refined " + stage + " image " + std::to_string(b));
      const torch::Tensor* p = trace.find("roi_head.s" + std::to_string(next) + ".proposals." + std::to_string(b));
      ASSERT_NE(p, nullptr);
      const torch::Tensor boxes = p->to(torch::kFloat64).cpu();
      ASSERT_EQ(boxes.size(0), per_image[b]["num"].get<int64_t>());
      EXPECT_LE(rel_err(boxes.sum().item<double>(), per_image[b]["box_sum"].get<double>()), box_sum_tol);
      const auto first5 = per_image[b]["first5"].get<std::vector<std::vector<double>>>();
      for (size_t i = 0; i < first5.size(); ++i)
        for (int k = 0; k < 4; ++k)
          EXPECT_NEAR(boxes[static_cast<int64_t>(i)][k].item<double>(), first5[i][k], 2e-3) << "box " << i;
    }
  }
}

}  // namespace
}  // namespace cppdet::models
