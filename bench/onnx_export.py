#!/usr/bin/env python3
"""Exports the torchvision peer of bench_inference to ONNX, for the ONNX Runtime peer.

The model is the one bench/torchvision_peer.py times (fasterrcnn_resnet50_fpn /
maskrcnn_resnet50_fpn, weights=None, min_size=800, max_size=1333, 100 detections, the box
classifier fixed to predict "person" with probability ~0.65 and zero deltas), exported with
torch.onnx.export at opset 11 (torchvision's supported opset for these models), constant
folding on, input "image": one decoded image, float32 [3, H, W] in [0, 1], for the image's own
size (H, W fixed). The graph contains torchvision's whole forward: normalisation and resizing
(GeneralizedRCNNTransform), the network, box decoding, NMS, and (Mask R-CNN) mask pasting at
the original size. Also writes the decoded image as raw float32 (<out>.input.bin) and its shape
(<out>.input.json), so that the ONNX Runtime side needs no image decoder.

  python3 bench/onnx_export.py --model faster --image demo.jpg --out faster.onnx
"""
import argparse
import json
import warnings

import torch
from torchvision.io import read_image

from torchvision_peer import build_model


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['faster', 'mask'], required=True)
    p.add_argument('--image', required=True)
    p.add_argument('--out', required=True)
    args = p.parse_args()
    warnings.filterwarnings('ignore')  # the tracer's warnings about Python control flow
    torch.manual_seed(0)
    model = build_model(args.model)
    img = read_image(args.image).float().div_(255)
    with torch.no_grad():
        torch.onnx.export(model, ([img],), args.out, opset_version=11, do_constant_folding=True,
                          input_names=['image'], output_names=['boxes', 'labels', 'scores'] +
                          (['masks'] if args.model == 'mask' else []))
    img.contiguous().numpy().tofile(args.out + '.input.bin')
    with open(args.out + '.input.json', 'w') as f:
        json.dump({'shape': list(img.shape)}, f)
    print(json.dumps({'onnx': args.out, 'opset': 11}))


if __name__ == '__main__':
    main()
