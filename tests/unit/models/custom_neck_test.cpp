// A user-defined neck registered by the program itself, outside the library
// (docs/custom_modules.md, "Registering from your own program"): BottomUpFPN = FPN plus a
// bottom-up augmentation path, where each output level i > 0 adds a stride-2 3x3 conv of
// level i - 1 (as in PAFPN).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/models/necks/fpn.h"
#include "cppdet/models/registries.h"
#include "model_test_util.h"

namespace example {

using namespace cppdet;

struct BottomUpFPNOptions {
  models::FPNOptions fpn;
  bool aug_relu = true;  // ReLU after each augmentation conv

  // Reads BottomUpFPN's own key, then hands the rest to FPN's reader (which rejects unknown keys).
  static BottomUpFPNOptions from_config(const config::Value& cfg, const std::string& path) {
    BottomUpFPNOptions o;
    config::Value rest = cfg;
    if (const config::Value* v = cfg.as_dict().find("aug_relu")) {
      if (!v->is_bool()) throw ConfigError(path + ".aug_relu: expected bool, got " + v->brief());
      o.aug_relu = v->as_bool();
      rest.as_dict().erase("aug_relu");
    }
    o.fpn = models::FPNOptions::from_config(rest, path);
    return o;
  }
};

class BottomUpFPN : public models::FPN {
 public:
  explicit BottomUpFPN(const BottomUpFPNOptions& o) : FPN(o.fpn) {
    aug_convs_ = register_module("aug_downsample_convs", torch::nn::ModuleList());
    const int64_t c = o.fpn.out_channels;
    for (int64_t i = 1; i < o.fpn.num_outs; ++i)
      aug_convs_->push_back(models::ConvModule(models::ConvModuleOptions{c, c, 3, 2, 1, 1, std::nullopt, o.aug_relu}));
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& inputs) override {
    std::vector<torch::Tensor> outs = FPN::forward(inputs);
    for (size_t i = 1; i < outs.size(); ++i) {
      torch::Tensor down = aug_convs_[i - 1]->as<models::ConvModuleImpl>()->forward(outs[i - 1]);
      // Odd sizes: the stride-2 conv may be one pixel larger than the next level.
      down = down.narrow(2, 0, outs[i].size(2)).narrow(3, 0, outs[i].size(3));
      outs[i] = outs[i] + down;
    }
    return outs;
  }

 private:
  torch::nn::ModuleList aug_convs_{nullptr};
};

void register_bottom_up_fpn() {
  if (models::neck_registry().contains("BottomUpFPN")) return;
  models::neck_registry().add("BottomUpFPN", [](const BuildContext& ctx) -> std::shared_ptr<models::Neck> {
    return std::make_shared<BottomUpFPN>(BottomUpFPNOptions::from_config(ctx.cfg, ctx.path));
  });
}

}  // namespace example

namespace cppdet::models {
namespace {

config::Value faster_rcnn_with_neck(const std::string& type) {
  config::Value model = testing::visible_model_config("faster_rcnn_r50_fpn_1x_coco");
  model.as_dict().at("neck").as_dict().set("type", type);
  return model;
}

TEST(CustomNeck, BottomUpFPNConfigBuildsAndRuns) {
  example::register_bottom_up_fpn();
  config::Value model_cfg = faster_rcnn_with_neck("BottomUpFPN");
  model_cfg.as_dict().at("neck").as_dict().set("aug_relu", false);
  std::shared_ptr<Detector> model = build_detector(model_cfg);

  bool found = false;
  for (const auto& [name, t] : io::module_state_dict(*model))
    if (name == "neck.aug_downsample_convs.3.conv.weight") found = t.sizes() == torch::IntArrayRef({256, 256, 3, 3});
  EXPECT_TRUE(found) << "the custom neck's parameters are part of the state dict";

  ImageMeta meta;
  meta.ori_shape = meta.img_shape = meta.pad_shape = {96, 128, 3};
  torch::manual_seed(0);
  DebugTrace trace;
  std::vector<DetResult> r = model->simple_test(torch::randn({1, 3, 96, 128}), {meta}, true, &trace);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bboxes.size(), 80u);
  ASSERT_NE(trace.find("neck.4"), nullptr);
  EXPECT_EQ(trace.find("neck.4")->size(2), 2);  // P6 of a 96-pixel-high input
}

TEST(CustomNeck, BottomUpFPNRejectsMistypedOwnKey) {
  example::register_bottom_up_fpn();
  config::Value model_cfg = faster_rcnn_with_neck("BottomUpFPN");
  model_cfg.as_dict().at("neck").as_dict().set("aug_relu", "yes");
  try {
    build_detector(model_cfg);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.neck.aug_relu: expected bool"), std::string::npos) << e.what();
  }
}

TEST(Registry, UnknownTypeListsKnownNamesAndPath) {
  try {
    build_detector(faster_rcnn_with_neck("NoSuchNeck"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.neck.type: unknown neck 'NoSuchNeck'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("FPN"), std::string::npos) << msg;
  }
}

TEST(Registry, MistypedAndUnknownKeysNameTheirPath) {
  config::Value bad_depth = testing::visible_model_config("faster_rcnn_r50_fpn_1x_coco");
  bad_depth.as_dict().at("backbone").as_dict().set("depth", "50");
  EXPECT_THROW(
      {
        try {
          build_detector(bad_depth);
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("model.backbone.depth: expected int"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);

  config::Value unknown = testing::visible_model_config("mask_rcnn_r50_fpn_1x_coco");
  unknown.as_dict().at("roi_head").as_dict().at("mask_head").as_dict().set("num_conv", 4);
  EXPECT_THROW(
      {
        try {
          build_detector(unknown);
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("model.roi_head.mask_head"), std::string::npos) << e.what();
          EXPECT_NE(std::string(e.what()).find("num_conv"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);

  config::Value bad_scales = testing::visible_model_config("faster_rcnn_r50_fpn_1x_coco");
  bad_scales.as_dict().at("rpn_head").as_dict().at("anchor_generator").as_dict().set("scales", "8");
  EXPECT_THROW(
      {
        try {
          build_detector(bad_scales);
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("model.rpn_head.anchor_generator.scales"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);
}

}  // namespace
}  // namespace cppdet::models
