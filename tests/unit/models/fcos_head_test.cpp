// FCOSHead against a plain-torch re-implementation of mmdet 2.25's FCOSHead, on random weights
// and features, for the option combinations the oracle cases do not cover (norm_on_bbox with
// the centerness on either tower, center sampling with either IoU loss, conv_bias, an nms_pre
// cut, per-level Scale values, custom regress ranges): raw outputs, detections and the three
// training losses. Plus hand-checked point targets (regress ranges, centre sampling, the
// smallest-area rule).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/models/common/scale.h"
#include "cppdet/models/dense_heads/fcos_head.h"
#include "cppdet/models/registries.h"
#include "unit/ops/python_reference.h"

namespace cppdet::models {
namespace {

struct Variant {
  bool norm_on_bbox;
  bool centerness_on_reg;
  bool center_sampling;
  bool giou;
};

std::shared_ptr<FCOSHead> build_head(const Variant& v) {
  auto py = [](bool b) { return b ? std::string("True") : std::string("False"); };
  const std::string text =
      "head = dict(type='FCOSHead', num_classes=3, in_channels=8, feat_channels=8, stacked_convs=2,\n"
      "    strides=[8, 16, 32], regress_ranges=((-1, 24), (24, 48), (48, 1e8)),\n"
      "    norm_cfg=dict(type='GN', num_groups=4, requires_grad=True), conv_bias=" + py(v.norm_on_bbox) + ",\n"
      "    norm_on_bbox=" + py(v.norm_on_bbox) + ", centerness_on_reg=" + py(v.centerness_on_reg) +
      ", center_sampling=" + py(v.center_sampling) + ", center_sample_radius=1.5,\n"
      "    loss_bbox=dict(type='" + (v.giou ? "GIoULoss" : "IoULoss") + "', loss_weight=1.0))\n"
      "test_cfg = dict(nms_pre=40, score_thr=0.3, nms=dict(type='nms', iou_threshold=0.5), max_per_img=25)\n";
  const config::Value cfg = config::parse_config_text(text, "fcos_head_test.py");
  HeadConfigs h;
  h.test_cfg = cfg.as_dict().at("test_cfg");
  h.test_cfg_path = "model.test_cfg";
  auto head = std::dynamic_pointer_cast<FCOSHead>(dense_head_registry().build(cfg.as_dict().at("head"), "model.bbox_head", h));
  // Random weights; GN affine and per-level scales away from their defaults.
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  for (auto& p : head->named_parameters()) {
    if (p.key().find("scales.") == 0) continue;
    p.value().copy_(torch::randn(p.value().sizes()) * (p.key().find("gn.") != std::string::npos ? 0.3 : 0.15) +
                    (p.key().find("gn.weight") != std::string::npos ? 1.0 : 0.0));
  }
  const double scales[] = {0.8, 1.3, 0.6};
  for (int l = 0; l < 3; ++l) head->named_parameters()["scales." + std::to_string(l) + ".scale"].fill_(scales[l]);
  return head;
}

// What cppdet computed for one variant.
struct VariantRun {
  DenseHeadOutputs out;
  std::vector<Detections> dets;
  LossTerms losses;
};

TEST(FCOSHeadVsPython, OutputsDetectionsAndLossesOfEveryVariant) {
  if (!testing::python_torchvision_available()) GTEST_SKIP() << "no python3 with torch and torchvision";
  const std::vector<Variant> variants{
      {false, false, false, false}, {true, false, true, true}, {true, true, false, false}, {false, true, true, true}};
  torch::manual_seed(5);
  // A 2-image batch padded to 80 x 112 (strides 8, 16, 32).
  const std::vector<torch::Tensor> feats{torch::randn({2, 8, 10, 14}), torch::randn({2, 8, 5, 7}),
                                         torch::randn({2, 8, 3, 4})};
  std::vector<ImageMeta> metas(2);
  metas[0].img_shape = {75, 110, 3};
  metas[0].scale_factor = {1.25f, 1.25f, 1.25f, 1.25f};
  metas[1].img_shape = {80, 96, 3};
  metas[1].scale_factor = {0.8f, 0.75f, 0.8f, 0.75f};
  std::vector<GtInstances> gts(2);
  gts[0].bboxes = torch::tensor({{10.f, 12.f, 40.f, 44.f}, {5.f, 5.f, 75.f, 70.f}, {50.f, 30.f, 62.f, 41.f}, {52.f, 28.f, 66.f, 45.f}});
  gts[0].labels = torch::tensor({0, 2, 1, 1});
  gts[1].bboxes = torch::tensor({{30.f, 20.f, 100.f, 75.f}, {2.f, 40.f, 20.f, 78.f}});
  gts[1].labels = torch::tensor({1, 0});

  testing::TensorMap in;
  in["num_variants"] = torch::tensor(static_cast<int64_t>(variants.size()));
  std::vector<VariantRun> runs;
  for (size_t k = 0; k < variants.size(); ++k) {
    const Variant& v = variants[k];
    std::shared_ptr<FCOSHead> head = build_head(v);
    VariantRun run;
    head->eval();
    run.out = head->forward(feats);
    run.dets = head->get_bboxes(run.out, metas, /*rescale=*/true);
    head->train();
    run.losses = head->loss(head->forward(feats), metas, gts);
    runs.push_back(std::move(run));

    const std::string pre = "v" + std::to_string(k) + ":";
    for (const auto& p : head->named_parameters()) in[pre + "p:" + p.key()] = p.value().detach();
    for (int l = 0; l < 3; ++l) in[pre + "f" + std::to_string(l)] = feats[l];
    in[pre + "cfg"] = torch::tensor({int64_t{v.norm_on_bbox}, int64_t{v.centerness_on_reg}, int64_t{v.center_sampling}, int64_t{v.giou}});
    for (int i = 0; i < 2; ++i) {
      const std::string b = std::to_string(i);
      in[pre + "img_shape" + b] = torch::tensor({metas[i].img_shape[0], metas[i].img_shape[1]});
      in[pre + "scale_factor" + b] = torch::tensor(std::vector<float>(metas[i].scale_factor.begin(), metas[i].scale_factor.end()));
      in[pre + "gt_bboxes" + b] = gts[i].bboxes;
      in[pre + "gt_labels" + b] = gts[i].labels;
    }
  }
  const testing::TensorMap ref = testing::run_python_reference(R"(
import torch.nn.functional as F
from torchvision.ops import batched_nms

def variant(inp, out):
    P = {k[2:]: v for k, v in inp.items() if k.startswith('p:')}
    norm_on_bbox, on_reg, center_sampling, giou = [bool(x) for x in inp['cfg'].tolist()]
    strides = [8, 16, 32]
    ranges = [(-1.0, 24.0), (24.0, 48.0), (48.0, 1e8)]
    feats = [inp['f0'], inp['f1'], inp['f2']]
    INF = 1e8
    eps32 = float(torch.finfo(torch.float32).eps)

    def tower(x, name):
        for i in range(2):
            pre = '%s.%d.' % (name, i)
            x = F.conv2d(x, P[pre + 'conv.weight'], P.get(pre + 'conv.bias'), padding=1)
            x = F.relu(F.group_norm(x, 4, P[pre + 'gn.weight'], P[pre + 'gn.bias'], eps=1e-5))
        return x

    def forward(training):
        cls, reg, ctr = [], [], []
        for l, x in enumerate(feats):
            cf, rf = tower(x, 'cls_convs'), tower(x, 'reg_convs')
            cls.append(F.conv2d(cf, P['conv_cls.weight'], P['conv_cls.bias'], padding=1))
            ctr.append(F.conv2d(rf if on_reg else cf, P['conv_centerness.weight'], P['conv_centerness.bias'], padding=1))
            b = F.conv2d(rf, P['conv_reg.weight'], P['conv_reg.bias'], padding=1) * P['scales.%d.scale' % l]
            if norm_on_bbox:
                b = b.clamp(min=0)
                if not training:
                    b = b * strides[l]
            else:
                b = b.exp()
            reg.append(b)
        return cls, reg, ctr

    def points(h, w, s):
        ys, xs = torch.meshgrid((torch.arange(h) + 0.5) * s, (torch.arange(w) + 0.5) * s, indexing='ij')
        return torch.stack([xs.reshape(-1), ys.reshape(-1)], -1).float()

    def decode(p, d, shape=None):
        b = torch.stack([p[:, 0] - d[:, 0], p[:, 1] - d[:, 1], p[:, 0] + d[:, 2], p[:, 1] + d[:, 3]], -1)
        if shape is not None:
            b[:, 0::2] = b[:, 0::2].clamp(0, shape[1])
            b[:, 1::2] = b[:, 1::2].clamp(0, shape[0])
        return b

    cls, reg, ctr = forward(False)
    for l in range(3):
        out['cls%d' % l], out['reg%d' % l], out['ctr%d' % l] = cls[l], reg[l], ctr[l]
    pts = [points(c.shape[2], c.shape[3], s) for c, s in zip(cls, strides)]
    for i in range(2):
        shape = inp['img_shape%d' % i].tolist()
        boxes, scores, labels, factors = [], [], [], []
        for l in range(3):
            sc = cls[l][i].permute(1, 2, 0).reshape(-1, 3).sigmoid()
            cn = ctr[l][i].permute(1, 2, 0).reshape(-1).sigmoid()
            bp = reg[l][i].permute(1, 2, 0).reshape(-1, 4)
            keep = (sc > 0.3).nonzero()
            s, order = sc[sc > 0.3].sort(descending=True)
            s, keep = s[:40], keep[order[:40]]
            boxes.append(decode(pts[l][keep[:, 0]], bp[keep[:, 0]], shape))
            scores.append(s)
            labels.append(keep[:, 1])
            factors.append(cn[keep[:, 0]])
        b = torch.cat(boxes) / inp['scale_factor%d' % i]
        s = torch.cat(scores) * torch.cat(factors)
        lab = torch.cat(labels)
        k = batched_nms(b, s, lab, 0.5)[:25]
        out['dets%d' % i] = torch.cat([b[k], s[k, None]], 1)
        out['labels%d' % i] = lab[k]

    # Training.
    cls, reg, ctr = forward(True)
    num_points = [p.shape[0] for p in pts]
    allp = torch.cat(pts)
    rr = torch.cat([torch.tensor(r)[None].expand(n, 2) for r, n in zip(ranges, num_points)])
    radius = torch.cat([torch.full((n,), s * 1.5) for s, n in zip(strides, num_points)])
    lab_l = [[] for _ in range(3)]
    tgt_l = [[] for _ in range(3)]
    for i in range(2):
        gb, gl = inp['gt_bboxes%d' % i], inp['gt_labels%d' % i]
        P_, K = allp.shape[0], gb.shape[0]
        areas = ((gb[:, 2] - gb[:, 0]) * (gb[:, 3] - gb[:, 1]))[None].repeat(P_, 1)
        xs, ys = allp[:, 0, None].expand(P_, K), allp[:, 1, None].expand(P_, K)
        g = gb[None].expand(P_, K, 4)
        t = torch.stack([xs - g[..., 0], ys - g[..., 1], g[..., 2] - xs, g[..., 3] - ys], -1)
        if center_sampling:
            cx, cy = (g[..., 0] + g[..., 2]) / 2, (g[..., 1] + g[..., 3]) / 2
            r = radius[:, None].expand(P_, K)
            x1, y1 = torch.maximum(cx - r, g[..., 0]), torch.maximum(cy - r, g[..., 1])
            x2, y2 = torch.minimum(cx + r, g[..., 2]), torch.minimum(cy + r, g[..., 3])
            inside = torch.stack([xs - x1, ys - y1, x2 - xs, y2 - ys], -1).min(-1)[0] > 0
        else:
            inside = t.min(-1)[0] > 0
        m = t.max(-1)[0]
        in_range = (m >= rr[:, None, 0]) & (m <= rr[:, None, 1])
        areas[~inside] = INF
        areas[~in_range] = INF
        amin, ai = areas.min(1)
        lab = gl[ai]
        lab[amin == INF] = 3
        tg = t[torch.arange(P_), ai]
        for l, (lb, tt) in enumerate(zip(lab.split(num_points), tg.split(num_points))):
            lab_l[l].append(lb)
            tgt_l[l].append(tt / strides[l] if norm_on_bbox else tt)
    labels = torch.cat([torch.cat(x) for x in lab_l])
    targets = torch.cat([torch.cat(x) for x in tgt_l])
    flat_cls = torch.cat([c.permute(0, 2, 3, 1).reshape(-1, 3) for c in cls])
    flat_reg = torch.cat([c.permute(0, 2, 3, 1).reshape(-1, 4) for c in reg])
    flat_ctr = torch.cat([c.permute(0, 2, 3, 1).reshape(-1) for c in ctr])
    flat_pts = torch.cat([p.repeat(2, 1) for p in pts])
    pos = ((labels >= 0) & (labels < 3)).nonzero().reshape(-1)
    num_pos = max(float(len(pos)), 1.0)
    t1 = F.one_hot(labels, 4)[:, :3].float()
    p1 = flat_cls.sigmoid()
    pt = (1 - p1) * t1 + p1 * (1 - t1)
    fw = (0.25 * t1 + 0.75 * (1 - t1)) * pt.pow(2)
    out['loss_cls'] = (F.binary_cross_entropy_with_logits(flat_cls, t1, reduction='none') * fw).sum() / (num_pos + eps32)
    pt_ = targets[pos]
    lr_, tb_ = pt_[:, [0, 2]], pt_[:, [1, 3]]
    ctr_t = torch.sqrt((lr_.min(-1)[0] / lr_.max(-1)[0]) * (tb_.min(-1)[0] / tb_.max(-1)[0]))
    pb, tb = decode(flat_pts[pos], flat_reg[pos]), decode(flat_pts[pos], pt_)
    lt, rb = torch.max(pb[:, :2], tb[:, :2]), torch.min(pb[:, 2:], tb[:, 2:])
    wh = (rb - lt).clamp(min=0)
    ov = wh[:, 0] * wh[:, 1]
    union = torch.max((pb[:, 2] - pb[:, 0]) * (pb[:, 3] - pb[:, 1]) + (tb[:, 2] - tb[:, 0]) * (tb[:, 3] - tb[:, 1]) - ov,
                      torch.tensor(1e-6))
    iou = ov / union
    if giou:
        ewh = (torch.max(pb[:, 2:], tb[:, 2:]) - torch.min(pb[:, :2], tb[:, :2])).clamp(min=0)
        ea = torch.max(ewh[:, 0] * ewh[:, 1], torch.tensor(1e-6))
        lb = 1 - (iou - (ea - union) / ea)
    else:
        lb = -iou.clamp(min=1e-6).log()
    out['loss_bbox'] = (lb * ctr_t).sum() / (max(ctr_t.sum().item(), 1e-6) + eps32)
    out['loss_centerness'] = F.binary_cross_entropy_with_logits(flat_ctr[pos], ctr_t, reduction='none').sum() / (num_pos + eps32)
    out['num_pos'] = torch.tensor(len(pos))

for k in range(int(inp['num_variants'].item())):
    pre = 'v%d:' % k
    vout = {}
    variant({n[len(pre):]: t for n, t in inp.items() if n.startswith(pre)}, vout)
    out.update({pre + n: t for n, t in vout.items()})
)",
                                                               in);
  for (size_t k = 0; k < variants.size(); ++k) {
    const Variant& v = variants[k];
    SCOPED_TRACE(std::string(v.norm_on_bbox ? "norm_on_bbox" : "exp") + (v.centerness_on_reg ? ", centerness on reg" : "") +
                 (v.center_sampling ? ", center sampling" : "") + (v.giou ? ", GIoU" : ", IoU"));
    const std::string pre = "v" + std::to_string(k) + ":";
    const VariantRun& run = runs[k];
    for (int l = 0; l < 3; ++l) {
      const std::string s = std::to_string(l);
      EXPECT_TRUE(torch::allclose(run.out.cls_scores[l], ref.at(pre + "cls" + s), 1e-4, 1e-5)) << "cls level " << l;
      EXPECT_TRUE(torch::allclose(run.out.bbox_preds[l], ref.at(pre + "reg" + s), 1e-4, 1e-4)) << "reg level " << l;
      EXPECT_TRUE(torch::allclose(run.out.score_factors[l], ref.at(pre + "ctr" + s), 1e-4, 1e-5)) << "centerness level " << l;
    }
    for (int i = 0; i < 2; ++i) {
      const std::string s = std::to_string(i);
      const torch::Tensor& want = ref.at(pre + "dets" + s);
      ASSERT_GT(want.size(0), 0) << "image " << i << ": the reference found nothing to compare";
      ASSERT_EQ(run.dets[i].bboxes.sizes(), want.sizes()) << "image " << i;
      EXPECT_TRUE(torch::allclose(run.dets[i].bboxes, want, 1e-4, 1e-3)) << run.dets[i].bboxes << want;
      EXPECT_TRUE(torch::equal(run.dets[i].labels, ref.at(pre + "labels" + s))) << "image " << i;
    }
    ASSERT_GT(ref.at(pre + "num_pos").item<int64_t>(), 0);
    for (const auto& [name, value] : run.losses) {
      const double want = ref.at(pre + name).item<double>(), got = value.item<double>();
      EXPECT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-7) << name;
    }
  }
}

// Hand-checked targets: stride-8 / 16 / 32 points, ranges (-1, 24), (24, 48), (48, inf).
TEST(FCOSHeadTargets, RegressRangesCenterSamplingAndSmallestArea) {
  Variant v{false, false, false, false};
  std::shared_ptr<FCOSHead> plain = build_head(v);
  v.center_sampling = true;
  std::shared_ptr<FCOSHead> sampled = build_head(v);
  // One point per level: (12, 12) at stride 8, (24, 24) at 16, (48, 48) at 32.
  const torch::Tensor points = torch::tensor({{12.f, 12.f}, {24.f, 24.f}, {48.f, 48.f}});
  GtInstances gt;
  // gt 0 [0, 0, 40, 40]: from (12, 12) max distance 28 -> level 1 range, not level 0's;
  // gt 1 [8, 8, 30, 30] (smaller, also around (12, 12) and (24, 24)): max distance 18 from (12, 12).
  gt.bboxes = torch::tensor({{0.f, 0.f, 40.f, 40.f}, {8.f, 8.f, 30.f, 30.f}});
  gt.labels = torch::tensor({2, 1});
  auto [labels, targets] = plain->point_targets(points, {1, 1, 1}, gt);
  // (12, 12) on level 0: gt 1 fits (max 18 <= 24), gt 0 does not (28 > 24) -> gt 1.
  EXPECT_EQ(labels[0].item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(targets[0], torch::tensor({4.f, 4.f, 18.f, 18.f})));
  // (24, 24) on level 1 [24, 48]: gt 0 max 24 fits; gt 1 max 16 does not -> gt 0.
  EXPECT_EQ(labels[1].item<int64_t>(), 2);
  // (48, 48) lies outside both -> background (num_classes = 3).
  EXPECT_EQ(labels[2].item<int64_t>(), 3);
  // With center sampling (radius 1.5 * stride): (24, 24) on level 1 is within 24 of gt 0's
  // centre (20, 20) -> still gt 0; (12, 12) on level 0 is within 12 of gt 1's centre (19, 19).
  auto [labels_s, targets_s] = sampled->point_targets(points, {1, 1, 1}, gt);
  EXPECT_EQ(labels_s[0].item<int64_t>(), 1);
  EXPECT_EQ(labels_s[1].item<int64_t>(), 2);
  // A level-2 point near a big gt's corner: inside the box and its regress range, but not
  // within 1.5 * 32 of its centre.
  const torch::Tensor corner = torch::tensor({{500.f, 500.f}, {500.f, 500.f}, {10.f, 10.f}});
  GtInstances big;
  big.bboxes = torch::tensor({{0.f, 0.f, 200.f, 200.f}});
  big.labels = torch::tensor({0});
  EXPECT_EQ(std::get<0>(plain->point_targets(corner, {1, 1, 1}, big))[2].item<int64_t>(), 0);
  EXPECT_EQ(std::get<0>(sampled->point_targets(corner, {1, 1, 1}, big))[2].item<int64_t>(), 3);
}

// Unknown and unsupported keys of the one-stage heads are refused with their path.
TEST(OneStageHeadConfig, RefusesUnknownAndUnsupportedKeys) {
  const config::Value cfg = config::parse_config_text(
      "a = dict(type='FCOSHead', num_classes=3, in_channels=8, foo=1)\n"
      "b = dict(type='FCOSHead', num_classes=3, in_channels=8, dcn_on_last_conv=True)\n"
      "c = dict(type='ATSSHead', num_classes=3, in_channels=8, bar=2,\n"
      "         anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=8,\n"
      "                               scales_per_octave=1, strides=[8, 16]))\n"
      "d = dict(type='GFLHead', num_classes=3, in_channels=8, bbox_coder=dict(type='DeltaXYWHBBoxCoder'),\n"
      "         anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=8,\n"
      "                               scales_per_octave=1, strides=[8, 16]))\n"
      "e = dict(type='FCOSHead', num_classes=3, in_channels=8, regress_ranges=((-1, 64), (64, 1e8)))\n",
      "t.py");
  const std::pair<const char*, const char*> cases[] = {{"a", "model.bbox_head"},
                                                      {"b", "model.bbox_head.dcn_on_last_conv"},
                                                      {"c", "model.bbox_head"},
                                                      {"d", "model.bbox_head.bbox_coder"},
                                                      {"e", "model.bbox_head.regress_ranges"}};
  for (const auto& [key, path] : cases) {
    try {
      dense_head_registry().build(cfg.as_dict().at(key), "model.bbox_head", HeadConfigs{});
      ADD_FAILURE() << key << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << key << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace cppdet::models
