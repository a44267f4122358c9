#!/usr/bin/env python3
"""torchvision.ops.deform_conv2d latency on CPU: the peer that bench_deform_conv runs.

Reads the cases bench_deform_conv wrote (DIR/manifest.json and raw float32 tensors: input,
offset, mask, weight per case), times deform_conv2d on each in the requested modes with the
requested thread count, writes each case's forward output to DIR/tv_<case>_<mode>.bin for the
comparison, and prints one JSON line: {case: {mode: [ms per iteration]}}.

Modes: 'v1' (no mask), 'v2' (mask), 'v2_train' (v2 forward + backward to input, offset, mask
and weight).
"""
import argparse
import json
import time

import numpy as np
import torch
import torchvision


def load(d, name, shape):
    return torch.from_numpy(np.fromfile('%s/%s.bin' % (d, name), dtype=np.float32).reshape(shape).copy())


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dir', required=True)
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=5)
    p.add_argument('--modes', default='v1,v2,v2_train')
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    manifest = json.load(open(args.dir + '/manifest.json'))
    result = {}
    for case in manifest['cases']:
        name = case['name']
        t = {k: load(args.dir, '%s_%s' % (name, k), case['shapes'][k]) for k in ('input', 'offset', 'mask', 'weight')}
        stride, pad, dil = case['stride'], case['padding'], case['dilation']
        result[name] = {}
        for mode in args.modes.split(','):
            train = mode == 'v2_train'
            mask = t['mask'] if mode != 'v1' else None

            def run():
                if train:
                    x = t['input'].clone().requires_grad_(True)
                    off = t['offset'].clone().requires_grad_(True)
                    m = mask.clone().requires_grad_(True)
                    w = t['weight'].clone().requires_grad_(True)
                    y = torchvision.ops.deform_conv2d(x, off, w, None, stride=stride, padding=pad, dilation=dil, mask=m)
                    y.sum().backward()
                    return y.detach()
                with torch.no_grad():
                    return torchvision.ops.deform_conv2d(t['input'], t['offset'], t['weight'], None, stride=stride,
                                                         padding=pad, dilation=dil, mask=mask)

            for _ in range(args.warmup):
                y = run()
            times = []
            for _ in range(args.iters):
                start = time.perf_counter()
                y = run()
                times.append((time.perf_counter() - start) * 1e3)
            result[name][mode] = times
            y.contiguous().numpy().tofile('%s/tv_%s_%s.bin' % (args.dir, name, mode))
    print(json.dumps(result))


if __name__ == '__main__':
    main()
