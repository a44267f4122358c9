// ResNet's `dcn`, `plugins` and `with_cp` options (models/backbones/resnet.h): the state_dict
// layouts of MMDetection's dcn / dcnv2 / gcnet / empirical_attention configs (oracle key
// manifests), gradient checkpointing giving the same outputs and gradients, the MKL-DNN
// inference path and fuse_conv_bn with deformable blocks and plugins, mmdet's init and its
// fallback_on_stride quirk, and config errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "cppdet/config/config_file.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/models/backbones/resnet.h"
#include "cppdet/models/common/deform_conv_pack.h"
#include "cppdet/models/common/fuse_conv_bn.h"
#include "cppdet/models/precision/inference_precision.h"
#include "cppdet/models/init/init_weights.h"
#include "cppdet/models/plugins/plugin_layer.h"
#include "model_test_util.h"

namespace cppdet::models {
namespace {

namespace fs = std::filesystem;

// ../shared/oracle: MMDetection's merged configs and their state_dict manifests.
TEST(OracleLayout, DcnPluginAndSoftNmsConfigsMatchMmdetManifests) {
  const std::string shared = testing::shared_dir();
  for (const char* name : {"dcn__faster_rcnn_r50_fpn_dconv_c3-c5_1x_coco", "dcnv2__faster_rcnn_r50_fpn_mdconv_c3-c5_group4_1x_coco",
                           "gcnet__mask_rcnn_r50_fpn_syncbn-backbone_r16_gcb_c3-c5_1x_coco",
                           "empirical_attention__faster_rcnn_r50_fpn_attention_1111_dcn_1x_coco",
                           "empirical_attention__faster_rcnn_r50_fpn_attention_0010_1x_coco",
                           "faster_rcnn__faster_rcnn_r50_fpn_soft_nms_1x_coco"}) {
    SCOPED_TRACE(name);
    const std::string config = shared + "/oracle/configs/all/" + name + ".py";
    const std::string keys = shared + "/oracle/keys/all/" + name + ".tsv";
    if (shared.empty() || !fs::exists(config) || !fs::exists(keys)) GTEST_SKIP() << name << " not found";
    const config::Value cfg = config::load_config(config);
    std::shared_ptr<Detector> model = build_detector(cfg.as_dict().at("model"));
    const io::StateDict sd = io::module_state_dict(*model);
    const std::vector<testing::KeyRow> expected = testing::read_key_rows(keys);
    ASSERT_EQ(sd.size(), expected.size());
    for (size_t i = 0; i < sd.size(); ++i) {
      SCOPED_TRACE(expected[i].key);
      ASSERT_EQ(sd[i].first, expected[i].key) << "at position " << i;
      EXPECT_EQ(sd[i].second.sizes().vec(), expected[i].shape);
      EXPECT_EQ(io::dtype_name(sd[i].second.scalar_type()), expected[i].dtype);
    }
  }
}

config::Value parse_backbone_cfg(const std::string& python_dict) {
  return config::parse_config_text("backbone = " + python_dict, "test.py").as_dict().at("backbone");
}

// A narrow ResNet-50 with DCNv2 in stages 2-4, a ContextBlock after conv3 of stages 2-4 and
// generalized attention after conv2 of stages 3-4, as the gcnet / empirical_attention configs.
ResNetOptions dcn_plugin_resnet_options(bool with_cp) {
  ResNetOptions o = ResNetOptions::from_config(
      parse_backbone_cfg("dict(type='ResNet', depth=50, base_channels=8, frozen_stages=-1, norm_eval=True, "
            "dcn=dict(type='DCNv2', deform_groups=2, fallback_on_stride=False), stage_with_dcn=(False, True, True, True), "
            "plugins=[dict(cfg=dict(type='ContextBlock', ratio=1./4), stages=(False, True, True, True), position='after_conv3'), "
            "dict(cfg=dict(type='GeneralizedAttention', spatial_range=-1, num_heads=2, attention_type='1111', kv_stride=2), "
            "stages=(False, False, True, True), position='after_conv2')])"),
      "model.backbone");
  o.with_cp = with_cp;
  return o;
}

// Every float parameter and BN statistic random (the zero-initialised offsets, gammas and last
// convs included), so that every path matters.
void randomise_dcn_resnet(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.named_parameters()) {
    if (p.key().find("conv_offset") != std::string::npos)
      p.value().normal_(0, 0.05);
    else if (p.key().find(".bn") != std::string::npos || p.key().find("downsample.1") != std::string::npos)
      p.value().uniform_(0.6, 1.4);
    else
      p.value().normal_(0, std::sqrt(1.0 / static_cast<double>(std::max<int64_t>(p.value()[0].numel(), 1))));
  }
  for (auto& b : net.named_buffers()) {
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.2);
  }
}

TEST(ResNetWithCp, SameOutputsAndGradients) {
  torch::manual_seed(5);
  auto plain = std::make_shared<ResNet>(dcn_plugin_resnet_options(false));
  randomise_dcn_resnet(*plain);
  auto cp = std::make_shared<ResNet>(dcn_plugin_resnet_options(true));
  {
    torch::NoGradGuard no_grad;
    const auto src = plain->named_parameters();
    for (auto& p : cp->named_parameters()) p.value().copy_(src[p.key()]);
    const auto src_buffers = plain->named_buffers();
    for (auto& b : cp->named_buffers()) b.value().copy_(src_buffers[b.key()]);
  }
  plain->train();
  cp->train();
  const torch::Tensor x = torch::randn({2, 3, 64, 96});
  const std::vector<torch::Tensor> a = plain->forward(x), b = cp->forward(x);
  torch::Tensor loss_a = torch::zeros({}), loss_b = torch::zeros({});
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "output " << i;
    const torch::Tensor weight = torch::randn_like(a[i]);
    loss_a = loss_a + (a[i] * weight).sum();
    loss_b = loss_b + (b[i] * weight).sum();
  }
  loss_a.backward();
  loss_b.backward();
  // Gradients equal up to float summation order: where a tensor feeds several layers, the
  // autograd engine may add their contributions in another order than through the recomputed
  // graph (as with torch.utils.checkpoint), ~1e-6 of the largest gradient.
  const auto grads = plain->named_parameters();
  double scale = 0;
  for (const auto& p : grads)
    if (p.value().grad().defined()) scale = std::max(scale, p.value().grad().abs().max().item<double>());
  size_t checked = 0;
  for (const auto& p : cp->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    const torch::Tensor ref = grads[p.key()].grad();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(p.value().grad().allclose(ref, 1e-5, 1e-6 * scale))
        << p.key() << ": max |diff| " << (p.value().grad() - ref).abs().max().item<double>() << " of max |grad| "
        << ref.abs().max().item<double>();
    ++checked;
  }
  EXPECT_GT(checked, 100u);
}

void expect_features_near(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& ref) {
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_FALSE(got[i].is_mkldnn());
    const double scale = ref[i].abs().max().item<double>();
    EXPECT_LE((got[i] - ref[i]).abs().max().item<double>(), 1e-4 * scale) << "level " << i;
  }
}

TEST(ResNetDcnPlugins, MkldnnPathAndConvBnFusionKeepTheFeatures) {
  torch::manual_seed(6);
  auto net = std::make_shared<ResNet>(dcn_plugin_resnet_options(false));
  randomise_dcn_resnet(*net);
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 64, 96});
  const std::vector<torch::Tensor> ref = net->forward(x);
  if (at::hasMKLDNN()) {
    ASSERT_EQ(set_mkldnn_inference(*net, true), 1);
    expect_features_near(net->forward(x), ref);
    set_mkldnn_inference(*net, false);
  }
  // 16 blocks: 3 pairs each except the 13 deformable conv2s, which keep their BN (as mmcv's
  // fuse_conv_bn folds only into nn.Conv2d); + the stem and 4 shortcuts.
  EXPECT_EQ(fuse_conv_bn(*net), 1 + 16 * 3 - 13 + 4);
  EXPECT_TRUE(net->named_parameters().contains("layer2.0.bn2.weight"));
  EXPECT_FALSE(net->named_parameters().contains("layer1.0.bn2.weight"));
  expect_features_near(net->forward(x), ref);
}

TEST(ResNetDcnPlugins, ChildrenOrderAndFallbackOnStrideAsMmdet) {
  ResNet net(dcn_plugin_resnet_options(false));
  std::vector<std::string> children;
  for (const auto& c : net.named_children()) {
    if (c.key() != "layer3") continue;
    for (const auto& block : c.value()->named_children()) {
      if (block.key() != "0") continue;
      for (const auto& m : block.value()->named_children()) children.push_back(m.key());
    }
  }
  EXPECT_EQ(children, (std::vector<std::string>{"conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "downsample",
                                                "gen_attention_block", "context_block"}));
  const auto params = net.named_parameters();
  EXPECT_EQ(params["layer3.0.conv2.conv_offset.weight"].sizes(), (std::vector<int64_t>{2 * 27, 32, 3, 3}));
  EXPECT_FALSE(params.contains("layer3.0.conv2.bias"));
  EXPECT_FALSE(params.contains("layer1.0.conv2.conv_offset.weight"));
  EXPECT_FALSE(params.contains("layer1.0.context_block.conv_mask.weight"));
  EXPECT_FALSE(params.contains("layer2.0.gen_attention_block.gamma"));

  // mmdet's Bottleneck pops fallback_on_stride from the dcn dict all blocks share: only the
  // first DCN block falls back to a plain conv.
  const ResNet fallback(ResNetOptions::from_config(
      parse_backbone_cfg("dict(type='ResNet', depth=50, base_channels=8, dcn=dict(type='DCN', fallback_on_stride=True), "
            "stage_with_dcn=(False, True, True, True))"),
      "b"));
  const auto fallback_params = fallback.named_parameters();
  EXPECT_FALSE(fallback_params.contains("layer2.0.conv2.conv_offset.weight"));
  EXPECT_TRUE(fallback_params.contains("layer2.1.conv2.conv_offset.weight"));
  EXPECT_TRUE(fallback_params.contains("layer4.0.conv2.conv_offset.weight"));
}

TEST(ResNetDcnPlugins, InitWeightsAsMmdet) {
  // From scratch mmdet 2.25 gives every nn.Conv2d of the backbone Kaiming init, then runs the
  // modules' own init_weights: DCNv2 zeroes its conv_offset, GeneralizedAttention re-inits its
  // convs; DCN (v1) has none, so its conv_offset keeps the Kaiming init.
  torch::nn::Module model;
  auto v2 = model.register_module("backbone", std::make_shared<ResNet>(dcn_plugin_resnet_options(false)));
  randomise_dcn_resnet(*v2);
  init_weights(model, config::Value());
  const auto p = model.named_parameters();
  EXPECT_EQ(p["backbone.layer3.1.conv2.conv_offset.weight"].abs().max().item<double>(), 0.0);
  // Kaiming uniform, fan_in 32, leaky_relu a=1: bound sqrt(3 / 32) (the first pass's Kaiming
  // normal, fan_out, std 0.25, would exceed it).
  EXPECT_LE(p["backbone.layer3.1.gen_attention_block.query_conv.weight"].abs().max().item<double>(), std::sqrt(3.0 / 32) + 1e-6);
  EXPECT_GT(p["backbone.layer2.0.context_block.channel_add_conv.3.weight"].abs().max().item<double>(), 0.0);

  torch::nn::Module model1;
  model1.register_module("backbone", std::make_shared<ResNet>(ResNetOptions::from_config(
                                         parse_backbone_cfg("dict(type='ResNet', depth=50, base_channels=8, dcn=dict(type='DCN'), "
                                               "stage_with_dcn=(False, True, True, True))"),
                                         "b")));
  init_weights(model1, config::Value());
  EXPECT_GT(model1.named_parameters()["backbone.layer2.0.conv2.conv_offset.weight"].abs().max().item<double>(), 0.0);
}

TEST(ResNetDcnPlugins, ConfigErrorsNameTheKey) {
  auto error = [](const std::string& cfg) {
    return testing::user_error_of([&] { ResNet net(ResNetOptions::from_config(parse_backbone_cfg(cfg), "model.backbone")); });
  };
  EXPECT_NE(error("dict(type='ResNet', depth=18, dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True))")
                .find("model.backbone.dcn"),
            std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=50, dcn=dict(type='DCN'), stage_with_dcn=(False, True))")
                .find("model.backbone.stage_with_dcn"),
            std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=50, dcn=dict(type='DCNv3'))").find("model.backbone.dcn.type"), std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=50, dcn=dict(type='DCN', groups=2))").find("model.backbone.dcn"), std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=50, plugins=[dict(cfg=dict(type='ContextBlock', ratio=0.25), position='after_conv4')])")
                .find("model.backbone.plugins[0].position"),
            std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=50, plugins=[dict(cfg=dict(type='NonLocal2d'), position='after_conv3')])")
                .find("model.backbone.plugins[0].cfg.type"),
            std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=50, plugins=[dict(cfg=dict(type='ContextBlock', ratio=0.25), "
                  "stages=(True,), position='after_conv3')])")
                .find("model.backbone.plugins[0].stages"),
            std::string::npos);
  EXPECT_NE(error("dict(type='ResNet', depth=34, plugins=[dict(cfg=dict(type='ContextBlock', ratio=0.25), position='after_conv3')])")
                .find("model.backbone.plugins"),
            std::string::npos);
  // The deprecated deformable_groups is read as deform_groups.
  const ResNet net(ResNetOptions::from_config(
      parse_backbone_cfg("dict(type='ResNet', depth=50, base_channels=8, dcn=dict(type='DCNv2', deformable_groups=4), "
            "stage_with_dcn=(False, False, False, True))"),
      "b"));
  EXPECT_EQ(net.named_parameters()["layer4.0.conv2.conv_offset.weight"].size(0), 4 * 27);
}

}  // namespace
}  // namespace cppdet::models
