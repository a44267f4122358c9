#!/usr/bin/env python3
"""torchvision's Faster / Mask R-CNN and FCOS R50-FPN latency: the peer that bench_inference runs.

Prints one JSON line: per-iteration end-to-end and model-only latencies (wall and process CPU
time, ms), the number of
detections of the last run, and the process's peak RSS (KiB).

* end-to-end: read + decode the image file, to float [0, 1], model([img]) — which normalizes,
  resizes (min_size 800, max_size 1333: a 640x427 image becomes 1199x800, padded to 1216x800),
  runs the network and post-processes (box decoding, NMS, mask pasting at the original size).
* model-only: from the already resized and normalized batch to the final detections at the
  original size (backbone, RPN, RoI heads, postprocess), i.e. without decoding and resizing.

Random weights (weights=None, weights_backbone=None), with the box classifier set to predict
"person" (logit 5, all others 0) and zero box deltas: every proposal is a 0.62-score person
candidate, so each image keeps 100 detections (and 100 masks) — the same workload as the
cppdet side, whose classifier bench_inference sets the same way. FCOS: "person" logit 5 and -10
for the other classes at every position, centerness logit 0, box offsets of one anchor size
(boxes two strides wide), so both sides keep up to 1000 candidates per level for NMS and 100
detections.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torchvision
from torchvision.io import read_image
from torchvision.models.detection import fasterrcnn_resnet50_fpn, fcos_resnet50_fpn, maskrcnn_resnet50_fpn


def build_model(name):
    """The peer model in eval mode with the fixed workload (see the module docstring)."""
    if name == 'fcos':
        model = fcos_resnet50_fpn(weights=None, weights_backbone=None, min_size=800, max_size=1333,
                                  detections_per_img=100).eval()
        with torch.no_grad():
            cls = model.head.classification_head.cls_logits
            cls.weight.zero_()
            cls.bias.fill_(-10.0)
            cls.bias[0] = 5.0  # FCOS has no background class: index 0 is "person"
            reg = model.head.regression_head
            reg.bbox_reg.weight.zero_()
            reg.bbox_reg.bias.fill_(1.0)
            reg.bbox_ctrness.weight.zero_()
            reg.bbox_ctrness.bias.zero_()
        return model
    build = fasterrcnn_resnet50_fpn if name == 'faster' else maskrcnn_resnet50_fpn
    model = build(weights=None, weights_backbone=None, min_size=800, max_size=1333,
                  box_detections_per_img=100).eval()
    with torch.no_grad():
        predictor = model.roi_heads.box_predictor
        predictor.cls_score.weight.zero_()
        predictor.cls_score.bias.zero_()
        predictor.cls_score.bias[1] = 5.0  # index 0 is background in torchvision
        predictor.bbox_pred.weight.zero_()
        predictor.bbox_pred.bias.zero_()
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['faster', 'mask', 'fcos'], required=True)
    p.add_argument('--image', required=True)
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=5)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model(args.model)

    def end_to_end():
        img = read_image(args.image).float().div_(255)
        return model([img])[0]

    first = read_image(args.image).float().div_(255)
    original_sizes = [tuple(first.shape[-2:])]
    images, _ = model.transform([first])

    def model_only():
        features = model.backbone(images.tensors)
        if args.model == 'fcos':
            features = list(features.values())
            head_outputs = model.head(features)
            anchors = model.anchor_generator(images, features)
            num_anchors_per_level = [x.size(2) * x.size(3) for x in features]
            split_outputs = {k: list(head_outputs[k].split(num_anchors_per_level, dim=1)) for k in head_outputs}
            split_anchors = [list(a.split(num_anchors_per_level)) for a in anchors]
            detections = model.postprocess_detections(split_outputs, split_anchors, images.image_sizes)
        else:
            proposals, _ = model.rpn(images, features)
            detections, _ = model.roi_heads(features, proposals, images.image_sizes)
        return model.transform.postprocess(detections, images.image_sizes, original_sizes)[0]

    result = {'framework': 'torchvision ' + torchvision.__version__, 'threads': args.threads,
              'input_shape': list(images.tensors.shape)}
    with torch.no_grad():
        for name, fn in (('e2e_ms', end_to_end), ('model_ms', model_only)):
            for _ in range(args.warmup):
                fn()
            times, cpu = [], []
            for _ in range(args.iters):
                t0, c0 = time.perf_counter(), time.process_time()
                out = fn()
                cpu.append((time.process_time() - c0) * 1000.0)
                times.append((time.perf_counter() - t0) * 1000.0)
            result[name] = times
            result[name.replace('_ms', '_cpu_ms')] = cpu
            result[name.replace('_ms', '_median_ms')] = statistics.median(times)
            result[name.replace('_ms', '_cpu_median_ms')] = statistics.median(cpu)
            result['detections'] = int(out['boxes'].shape[0])
    result['peak_rss_kib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


if __name__ == '__main__':
    main()
