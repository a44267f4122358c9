// forward_train on the stock configs with random weights: the sampling paths the tiny
// oracle cases do not take (RPN RandomSampler(256), RCNN RandomSampler(512) with gts added
// as proposals, RetinaNet's FocalLoss), gradients reaching the trainable parameters only,
// and the error messages for bad training input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cppdet/core/error.h"
#include "cppdet/models/detector.h"
#include "model_test_util.h"

namespace cppdet::models {
namespace {

// Two images 120x150 and 128x160 (padded 128x160), three boxes each.
DetBatch small_batch(bool with_masks) {
  torch::manual_seed(11);
  DetBatch b;
  b.img = torch::randn({2, 3, 128, 160});
  b.img[0].narrow(1, 120, 8).zero_();
  for (int i = 0; i < 2; ++i) {
    ImageMeta m;
    m.filename = "img" + std::to_string(i);
    m.ori_shape = {120 + 8 * i, 150 + 10 * i, 3};
    m.img_shape = m.ori_shape;
    m.pad_shape = {128, 160, 3};
    b.metas.push_back(m);
    GtInstances g;
    g.bboxes = torch::tensor({{10.f, 12.f, 60.f, 70.f}, {70.f, 20.f, 140.f, 100.f}, {5.f, 80.f, 40.f, 115.f}});
    g.labels = torch::tensor({1, 5, 79});
    g.bboxes_ignore = torch::zeros({0, 4});
    if (with_masks) {
      g.masks = torch::zeros({3, 128, 160}, torch::kUInt8);
      for (int k = 0; k < 3; ++k) {
        const auto box = g.bboxes[k];
        g.masks[k]
            .narrow(0, box[1].item<int64_t>(), (box[3] - box[1]).item<int64_t>())
            .narrow(1, box[0].item<int64_t>(), (box[2] - box[0]).item<int64_t>())
            .fill_(1);
      }
    }
    b.gts.push_back(g);
  }
  return b;
}

// The stock config with 8-channel ResNet stages and 32-channel neck / heads (fast on CPU).
config::Value tiny(const std::string& name) {
  config::Value model = testing::visible_model_config(name);
  config::Dict& m = model.as_dict();
  m.at("backbone").as_dict().set("base_channels", 8);
  m.at("neck").as_dict().set("in_channels", config::Value::list({32, 64, 128, 256}));
  m.at("neck").as_dict().set("out_channels", 32);
  for (const char* head : {"rpn_head", "bbox_head"}) {
    if (!m.find(head)) continue;
    m.at(head).as_dict().set("in_channels", 32);
    m.at(head).as_dict().set("feat_channels", 32);
  }
  if (config::Value* roi = m.find("roi_head")) {
    config::Dict& r = roi->as_dict();
    for (const char* extractor : {"bbox_roi_extractor", "mask_roi_extractor"})
      if (r.find(extractor)) r.at(extractor).as_dict().set("out_channels", 32);
    r.at("bbox_head").as_dict().set("in_channels", 32);
    r.at("bbox_head").as_dict().set("fc_out_channels", 64);
    if (r.find("mask_head")) {
      r.at("mask_head").as_dict().set("in_channels", 32);
      r.at("mask_head").as_dict().set("conv_out_channels", 32);
    }
  }
  return model;
}

std::vector<std::string> names(const LossTerms& terms) {
  std::vector<std::string> out;
  for (const auto& [n, t] : terms) out.push_back(n);
  return out;
}

void expect_trainable_grads_only(Detector& model) {
  for (const auto& p : model.named_parameters()) {
    if (p.value().requires_grad()) continue;
    EXPECT_FALSE(p.value().grad().defined()) << p.key() << " is frozen but got a gradient";
  }
}

TEST(TrainSmoke, MaskRcnnStockConfigSamplesAndBackpropagates) {
  torch::manual_seed(1);
  std::shared_ptr<Detector> model = build_detector(tiny("mask_rcnn_r50_fpn_1x_coco"));
  model->train();
  const LossTerms losses = model->forward_train(small_batch(true));
  EXPECT_EQ(names(losses), (std::vector<std::string>{"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "acc", "loss_bbox",
                                                     "loss_mask"}));
  torch::Tensor total = torch::zeros({});
  for (const auto& [n, t] : losses) {
    EXPECT_EQ(t.dim(), 0) << n;
    EXPECT_TRUE(std::isfinite(t.item<double>())) << n;
    EXPECT_GE(t.item<double>(), 0.0) << n;
    if (n != "acc") total = total + t;
  }
  total.backward();
  expect_trainable_grads_only(*model);
  for (const auto& p : model->named_parameters()) {
    const std::string& k = p.key();
    if (k.rfind("roi_head.", 0) == 0 || k.rfind("rpn_head.", 0) == 0 || k.rfind("neck.", 0) == 0)
      EXPECT_TRUE(p.value().grad().defined()) << k;
  }
}

TEST(TrainSmoke, RetinaNetFocalLoss) {
  torch::manual_seed(2);
  std::shared_ptr<Detector> model = build_detector(tiny("retinanet_r50_fpn_1x_coco"));
  model->train();
  const LossTerms losses = model->forward_train(small_batch(false));
  EXPECT_EQ(names(losses), (std::vector<std::string>{"loss_cls", "loss_bbox"}));
  for (const auto& [n, t] : losses) EXPECT_TRUE(std::isfinite(t.item<double>())) << n;
  (losses[0].second + losses[1].second).backward();
  expect_trainable_grads_only(*model);
}

TEST(TrainSmoke, BadInputsAndConfigsGiveClearErrors) {
  std::shared_ptr<Detector> faster = build_detector(tiny("faster_rcnn_r50_fpn_1x_coco"));
  faster->train();
  DetBatch missing = small_batch(false);
  missing.gts.pop_back();
  EXPECT_THROW(faster->forward_train(missing), UserError);

  std::shared_ptr<Detector> mask = build_detector(tiny("mask_rcnn_r50_fpn_1x_coco"));
  mask->train();
  EXPECT_THROW(mask->forward_train(small_batch(false)), UserError);  // no gt masks

  config::Value bad = tiny("faster_rcnn_r50_fpn_1x_coco");
  bad.as_dict().at("train_cfg").as_dict().at("rpn").as_dict().at("assigner").as_dict().set("type", "ATSSAssignerX");
  std::shared_ptr<Detector> model = build_detector(bad);  // training settings are read lazily
  model->train();
  try {
    model->forward_train(small_batch(false));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.train_cfg.rpn.assigner.type"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cppdet::models
