#!/usr/bin/env python3
"""torchvision's Faster R-CNN R50-FPN training step: the peer that bench_train_step runs.

Prints one JSON line: per-iteration wall times of one training step (forward with losses,
backward, SGD step) on a batch of 2 random 800x1216 images with 5 ground-truth boxes each, the
medians (wall, process CPU, and per phase), the last total loss (-1 if not finite), the peak
RSS (KiB) and, with --profile, the ten operators with the largest self CPU time over one more
iteration.

The network is fasterrcnn_resnet50_fpn as torchvision builds it for training from ImageNet
weights (FrozenBatchNorm2d, trainable_backbone_layers=3: stem and layer1 frozen), here with
random weights: the same frozen parts as MMDetection's faster_rcnn_r50_fpn_1x_coco.py on the
cppdet side. 81 classes (80 + background, as mmdet's fc_cls); rpn_post_nms_top_n_train=1000
(mmdet's rpn_proposal.max_per_img); other settings are torchvision's defaults (256 RPN
anchors and 512 RoIs sampled per image, as mmdet). The step starts from the already
normalized and batched tensor (model.transform is applied once, outside the timing), as the
cppdet side starts from a collated batch. SGD lr 0.0025, momentum 0.9, weight decay 1e-4.
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torchvision
from torchvision.models import resnet50
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.ops import misc as misc_nn_ops

HEIGHT, WIDTH, BATCH = 800, 1216, 2
# Shared with bench_train_step.cpp: x1, y1, x2, y2; image 1 shifted right by 40 px.
BOXES = [[100, 120, 400, 500], [600, 80, 900, 300], [300, 400, 700, 780], [850, 450, 1150, 760],
         [50, 600, 250, 790]]
LABELS = [0, 2, 15, 40, 79]  # mmdet's 0-based labels; torchvision's are +1 (0 = background)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=3)
    p.add_argument('--profile', action='store_true')
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    backbone = resnet50(weights=None, norm_layer=misc_nn_ops.FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(backbone, 3)
    model = FasterRCNN(backbone, num_classes=81, min_size=HEIGHT, max_size=1333,
                       rpn_post_nms_top_n_train=1000)
    model.train()
    # mmdet's zero_init_residual (the cppdet side's init): the last norm of each residual
    # block scales by 0. Without it the random, un-normalized (frozen) network overflows to
    # NaN losses, which would time a different workload.
    with torch.no_grad():
        for m in model.backbone.body.modules():
            if isinstance(m, torchvision.models.resnet.Bottleneck):
                m.bn3.weight.zero_()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.0025, momentum=0.9, weight_decay=1e-4)

    images = [torch.randn(3, HEIGHT, WIDTH) for _ in range(BATCH)]
    targets = []
    for i in range(BATCH):
        boxes = torch.tensor(BOXES, dtype=torch.float32)
        boxes[:, 0::2] += 40.0 * i
        targets.append({'boxes': boxes, 'labels': torch.tensor(LABELS, dtype=torch.int64) + 1})
    batch, targets = model.transform(images, targets)

    def step(phases=None):
        t0 = time.perf_counter()
        features = model.backbone(batch.tensors)
        proposals, proposal_losses = model.rpn(batch, features, targets)
        _, detector_losses = model.roi_heads(features, proposals, batch.image_sizes, targets)
        losses = {**proposal_losses, **detector_losses}
        loss = sum(losses.values())
        t1 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        if phases is not None:
            phases.append(((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3))
        return float(loss)

    for _ in range(args.warmup):
        step()
    wall, cpu, phases = [], [], []
    for _ in range(args.iters):
        t0, c0 = time.perf_counter(), time.process_time()
        last_loss = step(phases)
        cpu.append((time.process_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
    result = {
        'framework': 'torchvision ' + torchvision.__version__,
        'threads': args.threads,
        'input_shape': list(batch.tensors.shape),
        'step_ms': wall,
        'step_median_ms': statistics.median(wall),
        'step_cpu_median_ms': statistics.median(cpu),
        'forward_median_ms': statistics.median(p[0] for p in phases),
        'backward_median_ms': statistics.median(p[1] for p in phases),
        'optimizer_median_ms': statistics.median(p[2] for p in phases),
        'last_loss': last_loss if math.isfinite(last_loss) else -1.0,  # -1: not finite
    }
    if args.profile:
        with torch.autograd.profiler.profile() as prof:
            step()
        rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[:10]
        result['top_ops'] = [{'name': e.key, 'self_ms': e.self_cpu_time_total / 1e3, 'calls': e.count}
                             for e in rows]
    result['peak_rss_kib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


if __name__ == '__main__':
    main()
