// FCOS, ATSS and GFL train from scratch through `cppdet train` on `cppdet data synth-shapes`
// images (96x96, a ResNet-18 with 16 base channels, two-conv GN heads): the logged loss falls
// and the final evaluation gives a finite bbox mAP. One test per family.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/test_support.h"

namespace cppdet {
namespace {

using Json = nlohmann::json;
using cppdet::testing::json_logs;
using cppdet::testing::log_records;
using cppdet::testing::make_temp_dir;
using cppdet::testing::run_command;
using cppdet::testing::shell_quote;

// {root}: the data folder; {head}: the family's bbox_head / train_cfg / test_cfg.
constexpr const char* kOneStageConfig = R"(
model = dict(
    type='{type}',
    backbone=dict(type='ResNet', depth=18, base_channels=16, num_stages=4, out_indices=(0, 1, 2, 3),
                  frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                  style='pytorch', init_cfg=None),
    neck=dict(type='FPN', in_channels=[16, 32, 64, 128], out_channels=32, start_level=1,
              add_extra_convs='on_output', num_outs=5),
    {head},
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6),
                  max_per_img=50))
classes = ('circle', 'triangle', 'rectangle', 'star')
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=(96, 96), flip=False,
         transforms=[dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
                     dict(type='Normalize', **img_norm_cfg), dict(type='Pad', size_divisor=32),
                     dict(type='ImageToTensor', keys=['img']), dict(type='Collect', keys=['img'])])
]
data = dict(
    samples_per_gpu=8,
    workers_per_gpu=1,
    train=dict(type='CocoDataset', classes=classes, ann_file='{root}/annotations/instances_train.json',
               img_prefix='{root}/train/', pipeline=train_pipeline),
    val=dict(type='CocoDataset', classes=classes, ann_file='{root}/annotations/instances_val.json',
             img_prefix='{root}/val/', pipeline=test_pipeline),
    test=dict(type='CocoDataset', classes=classes, ann_file='{root}/annotations/instances_val.json',
              img_prefix='{root}/val/', pipeline=test_pipeline))
evaluation = dict(interval={epochs}, metric='bbox')
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
optimizer_config = dict(grad_clip=dict(max_norm=35, norm_type=2))
lr_config = dict(policy='step', warmup='linear', warmup_iters=16, warmup_ratio=0.1, step=[{epochs}])
runner = dict(type='EpochBasedRunner', max_epochs={epochs})
checkpoint_config = dict(interval={epochs})
log_config = dict(interval=4, hooks=[dict(type='TextLoggerHook')])
)";

constexpr int kOneStageEpochs = 8;  // 48 images, 8 per batch: 48 iterations

constexpr const char* kFcosHead = R"(bbox_head=dict(
        type='FCOSHead', num_classes=4, in_channels=32, stacked_convs=2, feat_channels=32,
        strides=[8, 16, 32, 64, 128], norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        regress_ranges=((-1, 32), (32, 64), (64, 128), (128, 256), (256, 1e8)),
        norm_on_bbox=True, centerness_on_reg=True, center_sampling=True, conv_bias=True,
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                                 ignore_iof_thr=-1),
                   allowed_border=-1, pos_weight=-1, debug=False))";

constexpr const char* kAtssHead = R"(bbox_head=dict(
        type='ATSSHead', num_classes=4, in_channels=32, stacked_convs=2, feat_channels=32,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=4, scales_per_octave=1,
                              strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0], target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False))";

constexpr const char* kGflHead = R"(bbox_head=dict(
        type='GFLHead', num_classes=4, in_channels=32, stacked_convs=2, feat_channels=32,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=4, scales_per_octave=1,
                              strides=[8, 16, 32, 64, 128]),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False))";

std::string replace_all(std::string text, const std::string& key, const std::string& value) {
  for (size_t p; (p = text.find(key)) != std::string::npos;) text.replace(p, key.size(), value);
  return text;
}

struct Family {
  std::string type;
  const char* head;
};

class OneStageFromScratch : public ::testing::TestWithParam<Family> {};

TEST_P(OneStageFromScratch, LossFallsAndEvaluates) {
  const Family& f = GetParam();
  const std::string dir = make_temp_dir("one-stage-" + f.type);
  const std::string cppdet = "CPPDET_NUM_THREADS=2 " + shell_quote(cppdet::testing::cppdet_exe());
  auto data = run_command(cppdet + " data synth-shapes " + shell_quote(dir + "/shapes") +
                          " --train 48 --val 8 --seed 5 --size 96x96");
  ASSERT_EQ(data.exit_code, 0) << data.output;
  std::string config = replace_all(kOneStageConfig, "{head}", f.head);
  config = replace_all(replace_all(replace_all(config, "{type}", f.type), "{root}", dir + "/shapes"), "{epochs}",
                      std::to_string(kOneStageEpochs));
  std::ofstream(dir + "/config.py") << config;

  auto train = run_command(cppdet + " train " + shell_quote(dir + "/config.py") + " --work-dir " +
                           shell_quote(dir + "/work") + " --seed 0");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const std::vector<std::string> logs = json_logs(dir + "/work");
  ASSERT_EQ(logs.size(), 1u) << train.output;
  std::vector<double> losses;
  const Json* val = nullptr;
  const std::vector<Json> records = log_records(logs[0]);
  for (const Json& r : records) {
    if (r["mode"] == "train") losses.push_back(r["loss"].get<double>());
    if (r["mode"] == "val") val = &r;
  }
  ASSERT_GE(losses.size(), 8u) << train.output;
  // The mean of the last 4 logged losses is below 80 % of the first logged one (measured: FCOS
  // 2.82 -> 1.59, ATSS 2.84 -> 1.96, GFL 2.61 -> 1.66).
  double tail = 0;
  for (size_t i = losses.size() - 4; i < losses.size(); ++i) tail += losses[i] / 4;
  std::printf("%s: first logged loss %.4f, mean of the last 4 %.4f\n", f.type.c_str(), losses.front(), tail);
  EXPECT_LT(tail, 0.8 * losses.front());
  ASSERT_NE(val, nullptr) << train.output;
  std::printf("%s: %s\n", f.type.c_str(), val->dump().c_str());
  const double map = (*val)["bbox_mAP"].get<double>();
  EXPECT_TRUE(std::isfinite(map));
  EXPECT_GE(map, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Families, OneStageFromScratch,
                         ::testing::Values(Family{"FCOS", kFcosHead}, Family{"ATSS", kAtssHead},
                                           Family{"GFL", kGflHead}),
                         [](const ::testing::TestParamInfo<Family>& info) { return info.param.type; });

}  // namespace
}  // namespace cppdet
