// CascadeRoIHead beyond the oracle's cases (which are class-agnostic, 3 stages, one image at a
// time, one shared mask RoI extractor config): refine_bboxes against hand-computed boxes, and a
// 2-stage, class-specific variant on a batch of two images of different sizes against a plain
// torch/torchvision/numpy rewrite of MMDetection's CascadeRoIHead.simple_test
// (cascade_reference.py), and the config errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/models/detectors/two_stage.h"
#include "cppdet/models/roi_heads/bbox_heads/convfc_bbox_head.h"
#include "cppdet/models/roi_heads/cascade_roi_head.h"
#include "model_test_util.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

using config::Value;

// A 2-class Shared2FCBBoxHead whose coder has stds 1 (deltas are plain box units).
std::shared_ptr<ConvFCBBoxHead> unit_bbox_head(bool class_agnostic) {
  config::Dict coder;
  coder.set("type", "DeltaXYWHBBoxCoder");
  coder.set("target_means", Value::list({0.0, 0.0, 0.0, 0.0}));
  coder.set("target_stds", Value::list({1.0, 1.0, 1.0, 1.0}));
  config::Dict head;
  head.set("type", "Shared2FCBBoxHead");
  head.set("in_channels", 1);
  head.set("fc_out_channels", 4);
  head.set("roi_feat_size", 1);
  head.set("num_classes", 2);
  head.set("reg_class_agnostic", class_agnostic);
  head.set("bbox_coder", coder);
  return std::make_shared<ConvFCBBoxHead>(ConvFCBBoxHeadOptions::from_config(head, "bbox_head", "Shared2FCBBoxHead"));
}

std::vector<ImageMeta> two_metas(std::array<int64_t, 3> shape0, std::array<int64_t, 3> shape1) {
  std::vector<ImageMeta> metas(2);
  metas[0].img_shape = shape0;
  metas[1].img_shape = shape1;
  return metas;
}

// Image 0 (img_shape 50 x 100): a gt positive, a positive, a negative; image 1 (200 x 200): a
// positive and a negative. Class 0 moves a box by (+0.5 w, +0.25 h), class 1 doubles its size.
TEST(RefineBBoxes, ClassSpecificUsesEachRowsLabelDropsGtsAndClipsPerImage) {
  const auto head = unit_bbox_head(false);
  const torch::Tensor rois = torch::tensor({{0.f, 10.f, 10.f, 30.f, 50.f},
                                            {0.f, 10.f, 10.f, 30.f, 50.f},
                                            {0.f, 0.f, 0.f, 20.f, 20.f},
                                            {1.f, 10.f, 10.f, 30.f, 50.f},
                                            {1.f, 100.f, 100.f, 120.f, 140.f}});
  const float ln2 = std::log(2.0f);
  const std::vector<float> class0{0.5f, 0.25f, 0.f, 0.f}, class1{0.f, 0.f, ln2, ln2};
  std::vector<float> pred;
  for (int i = 0; i < 5; ++i) {
    pred.insert(pred.end(), class0.begin(), class0.end());
    pred.insert(pred.end(), class1.begin(), class1.end());
  }
  const torch::Tensor bbox_pred = torch::tensor(pred).view({5, 8});
  const torch::Tensor labels = torch::tensor({1, 1, 0, 0, 1}, torch::kLong);
  const std::vector<torch::Tensor> pos_is_gts{torch::tensor({1, 0}, torch::kUInt8), torch::tensor({0}, torch::kUInt8)};
  const auto out = refine_bboxes(*head, rois, labels, bbox_pred, pos_is_gts, two_metas({50, 100, 3}, {200, 200, 3}));
  ASSERT_EQ(out.size(), 2u);
  // Image 0: the gt row is gone; the doubled box [0, -10, 40, 70] is clipped to 50 x 100.
  EXPECT_TRUE(torch::allclose(out[0], torch::tensor({{0.f, 0.f, 40.f, 50.f}, {10.f, 5.f, 30.f, 25.f}}), 0, 1e-4)) << out[0];
  // Image 1 (200 x 200): nothing to clip.
  EXPECT_TRUE(torch::allclose(out[1], torch::tensor({{20.f, 20.f, 40.f, 60.f}, {90.f, 80.f, 130.f, 160.f}}), 0, 1e-4))
      << out[1];
}

TEST(RefineBBoxes, ClassAgnosticIgnoresTheLabels) {
  const auto head = unit_bbox_head(true);
  const torch::Tensor rois = torch::tensor({{0.f, 10.f, 10.f, 30.f, 50.f}, {1.f, 10.f, 10.f, 30.f, 50.f}});
  const torch::Tensor bbox_pred = torch::tensor({0.5f, 0.25f, 0.f, 0.f}).repeat({2, 1});
  const std::vector<torch::Tensor> pos_is_gts{torch::zeros({0}, torch::kUInt8), torch::zeros({0}, torch::kUInt8)};
  const auto out = refine_bboxes(*head, rois, torch::tensor({1, 0}, torch::kLong), bbox_pred, pos_is_gts,
                                 two_metas({50, 100, 3}, {200, 200, 3}));
  EXPECT_TRUE(torch::allclose(out[0], torch::tensor({{20.f, 20.f, 40.f, 50.f}}), 0, 1e-4)) << out[0];
  EXPECT_TRUE(torch::allclose(out[1], torch::tensor({{20.f, 20.f, 40.f, 60.f}}), 0, 1e-4)) << out[1];
}

// The cascade_mask_tiny_r50 oracle config (tiny R50-FPN widths) turned into a variant no oracle
// case has: 2 stages, class-specific regression with other stds, 4 classes, per-stage lists of
// bbox and mask heads, and mask RoI extractors that differ between the stages.
Value variant_config() {
  Value cfg = config::load_config(testing::fixture("oracle_cases/cascade_mask_tiny_r50/config.py"));
  config::Dict& roi = cfg.as_dict().at("model").as_dict().at("roi_head").as_dict();
  roi.set("num_stages", 2);
  roi.set("stage_loss_weights", Value::list({1.0, 0.7}));
  Value head0 = roi.at("bbox_head").as_sequence()[0];
  head0.as_dict().set("num_classes", 4);
  head0.as_dict().set("reg_class_agnostic", false);
  Value head1 = head0;
  head1.as_dict().at("bbox_coder").as_dict().set("target_stds", Value::list({0.06, 0.06, 0.12, 0.12}));
  roi.set("bbox_head", Value::list({head0, head1}));
  Value mask = roi.at("mask_head");
  mask.as_dict().set("num_classes", 4);
  roi.set("mask_head", Value::list({mask, mask}));
  Value extractor0 = roi.at("mask_roi_extractor");
  Value extractor1 = extractor0;
  extractor1.as_dict().at("roi_layer").as_dict().set("sampling_ratio", 2);
  roi.set("mask_roi_extractor", Value::list({extractor0, extractor1}));
  return cfg;
}

testing::TensorMap roi_head_inputs(TwoStageDetector& model, const DebugTrace& trace, const std::vector<ImageMeta>& metas) {
  testing::TensorMap in;
  for (int i = 0; i < 4; ++i) in["feat" + std::to_string(i)] = *trace.find("neck." + std::to_string(i));
  for (size_t b = 0; b < metas.size(); ++b) in["proposals" + std::to_string(b)] = *trace.find("rpn_proposals." + std::to_string(b));
  for (const auto& p : model.roi_head().named_parameters()) in[p.key()] = p.value();
  torch::Tensor img_shape = torch::zeros({2, 2}, torch::kLong), ori_shape = torch::zeros({2, 2}, torch::kLong);
  torch::Tensor scale_factor = torch::zeros({2, 4});
  for (int64_t b = 0; b < 2; ++b) {
    const ImageMeta& m = metas[static_cast<size_t>(b)];
    img_shape[b] = torch::tensor({m.img_shape[0], m.img_shape[1]});
    ori_shape[b] = torch::tensor({m.ori_shape[0], m.ori_shape[1]});
    scale_factor[b] = torch::tensor({m.scale_factor[0], m.scale_factor[1], m.scale_factor[2], m.scale_factor[3]});
  }
  in["img_shape"] = img_shape;
  in["ori_shape"] = ori_shape;
  in["scale_factor"] = scale_factor;
  in["stds"] = torch::tensor({0.1, 0.1, 0.2, 0.2, 0.06, 0.06, 0.12, 0.12}, torch::kFloat64).view({2, 4});
  in["sampling_ratio"] = torch::tensor({0, 2}, torch::kLong);
  in["class_agnostic"] = torch::tensor({0, 0}, torch::kLong);
  in["score_thr"] = torch::tensor({0.05}, torch::kFloat64);
  in["iou_thr"] = torch::tensor({0.5}, torch::kFloat64);
  in["mask_thr"] = torch::tensor({0.5}, torch::kFloat64);
  in["max_per_img"] = torch::tensor({100}, torch::kLong);
  return in;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64).cpu() - b.to(torch::kFloat64).cpu()).abs().max().item<double>();
}

TEST(CascadeReference, TwoStageClassSpecificBatchMatchesPythonTorch) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "no python3 with torch and torchvision";
  torch::manual_seed(12);
  std::shared_ptr<Detector> detector = build_detector(variant_config().as_dict().at("model"));
  auto& model = dynamic_cast<TwoStageDetector&>(*detector);
  // Random weights, the heads' outputs scaled up so that the regression really moves the RoIs
  // and the classes differ (the default init predicts near-zero deltas and flat scores).
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model.roi_head().named_parameters()) {
      if (p.key().find("fc_reg.weight") != std::string::npos) p.value().normal_(0, 0.5);
      if (p.key().find("fc_cls.weight") != std::string::npos) p.value().normal_(0, 3.0);
      if (p.key().find("conv_logits.weight") != std::string::npos) p.value().normal_(0, 0.5);
    }
  }
  // Two images of different sizes in one padded batch, shrunk 2x from their originals.
  std::vector<ImageMeta> metas(2);
  metas[0].img_shape = {320, 480, 3};
  metas[1].img_shape = {288, 416, 3};
  for (ImageMeta& m : metas) {
    m.pad_shape = {320, 480, 3};
    m.ori_shape = {m.img_shape[0] / 2, m.img_shape[1] / 2, 3};
    m.scale_factor = {2.f, 2.f, 2.f, 2.f};
  }
  const torch::Tensor img = torch::randn({2, 3, 320, 480});
  // Centre each stage's class logits over its RoIs (else one class wins everywhere): the
  // foreground biases minus the mean logit per class, from a first run.
  {
    DebugTrace calibration;
    model.simple_test(img, metas, true, &calibration);
    torch::NoGradGuard no_grad;
    for (auto& p : model.roi_head().named_parameters()) {
      if (p.key().find("fc_cls.bias") == std::string::npos) continue;
      const std::string stage = p.key().substr(std::string("bbox_head.").size(), 1);
      const torch::Tensor mean = calibration.find("roi_head.stage" + stage + ".cls_score")->mean(0);
      p.value().narrow(0, 0, 4).sub_(mean.narrow(0, 0, 4) - mean.narrow(0, 0, 4).mean());
    }
  }
  DebugTrace trace;
  const std::vector<DetResult> results = model.simple_test(img, metas, true, &trace);

  // The variant must exercise what it is for: refinement moves the RoIs, several classes.
  const torch::Tensor moved = (trace.find("roi_head.stage1.rois")->narrow(1, 1, 4) -
                               trace.find("roi_head.stage0.rois")->narrow(1, 1, 4)).abs();
  EXPECT_GT(moved.mean().item<double>(), 0.5) << "refinement moves the RoIs by too little to test it";
  for (int b = 0; b < 2; ++b) {
    const torch::Tensor labels = *trace.find("roi_head.det_labels." + std::to_string(b));
    EXPECT_GE(labels.size(0), 20) << "image " << b;
    EXPECT_GE(std::get<0>(at::_unique(labels)).numel(), 2) << "image " << b << ": " << labels;
  }

  const testing::TensorMap ref = testing::run_python_reference(
      testing::read_text(testing::source_dir() + "/tests/unit/models/cascade_reference.py"),
      roi_head_inputs(model, trace, metas));
  EXPECT_LT(max_abs_diff(*trace.find("roi_head.stage1.rois"), ref.at("rois1")), 1e-3);
  EXPECT_LT(max_abs_diff(*trace.find("roi_head.ensemble.cls_score"), ref.at("cls_score")), 1e-4);
  std::vector<torch::Tensor> merged;
  for (int b = 0; b < 2; ++b) {
    SCOPED_TRACE("image " + std::to_string(b));
    const std::string i = std::to_string(b);
    const torch::Tensor dets = *trace.find("roi_head.dets." + i);
    const torch::Tensor labels = *trace.find("roi_head.det_labels." + i);
    ASSERT_EQ(dets.size(0), ref.at("dets" + i).size(0));
    EXPECT_LT(max_abs_diff(dets.narrow(1, 0, 4), ref.at("dets" + i).narrow(1, 0, 4)), 1e-3);
    EXPECT_LT(max_abs_diff(dets.select(1, 4), ref.at("dets" + i).select(1, 4)), 1e-5);
    EXPECT_TRUE(torch::equal(labels.cpu(), ref.at("labels" + i)));
    merged.push_back(ref.at("merged" + i));
    // Masks, per class in detection order (bbox2result).
    const torch::Tensor ref_masks = ref.at("masks" + i).to(torch::kBool);
    const DetResult& r = results[static_cast<size_t>(b)];
    ASSERT_EQ(r.masks.size(), 4u);
    for (int64_t c = 0; c < 4; ++c) {
      const torch::Tensor want = ref_masks.index_select(0, (labels.cpu() == c).nonzero().squeeze(1));
      ASSERT_EQ(r.masks[static_cast<size_t>(c)].sizes(), want.sizes()) << "class " << c;
      EXPECT_LE((r.masks[static_cast<size_t>(c)] != want).sum().item<int64_t>(), 2 * want.size(0)) << "class " << c;
    }
  }
  EXPECT_LT(max_abs_diff(*trace.find("mask_head.merged_prob"), torch::cat(merged)), 1e-5);
}

TEST(CascadeRoIHeadConfig, ErrorsNameTheKey) {
  auto error_of = [](const std::function<void(config::Dict&)>& edit) {
    Value cfg = config::load_config(testing::fixture("oracle_cases/cascade_rcnn_tiny_r50/config.py"));
    edit(cfg.as_dict().at("model").as_dict().at("roi_head").as_dict());
    return testing::user_error_of([&] { build_detector(cfg.as_dict().at("model")); });
  };
  EXPECT_NE(error_of([](config::Dict& r) { r.set("stage_loss_weights", Value::list({1.0, 0.5})); })
                .find("model.roi_head.stage_loss_weights: expected num_stages=3 weights, got 2"),
            std::string::npos);
  EXPECT_NE(error_of([](config::Dict& r) { r.set("bbox_head", Value::list({r.at("bbox_head").as_sequence()[0]})); })
                .find("model.roi_head.bbox_head: expected num_stages=3 entries, got 1"),
            std::string::npos);
  EXPECT_NE(error_of([](config::Dict& r) { r.at("bbox_head").as_sequence()[2].as_dict().set("fc_out_channel", 3); })
                .find("model.roi_head.bbox_head[2]"),
            std::string::npos);
  EXPECT_NE(error_of([](config::Dict& r) { r.set("shared_head", config::Dict{}); }).find("model.roi_head.shared_head"),
            std::string::npos);
}

}  // namespace
}  // namespace cppdet::models
