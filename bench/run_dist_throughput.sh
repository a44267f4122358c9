#!/usr/bin/env bash
# Training throughput on this machine: 1 process x 2 threads against 2 Gloo processes x 1
# thread (scripts/dist_train.sh), the same total batch of 4 images, on the quick-start config
# (192x192 synthetic shapes, 64 training images, one epoch, no evaluation). Report only.
# Usage: bench/run_dist_throughput.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: $0 BUILD_DIR [WORK_DIR]}
work=${2:-$build/dist_throughput}
cppdet=$build/bin/cppdet
config=$root/configs/quickstart/mask_rcnn_r18_fpn_shapes.py
mkdir -p "$work"
[ -f "$work/shapes/annotations/instances_train.json" ] ||
  "$cppdet" data synth-shapes "$work/shapes" --train 64 --val 1 --seed 0 --size 192x192 >/dev/null
common=(--no-validate --seed 0 --cfg-options "data.train.ann_file=$work/shapes/annotations/instances_train.json"
        "data.train.img_prefix=$work/shapes/train/" runner.max_epochs=1 log_config.interval=1 data.workers_per_gpu=0)
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Median of the logged per-iteration `time` after the first 3 iterations, ms.
iter_ms() {
  python3 - "$1" <<'PY'
import json, statistics, sys
times = [json.loads(l)['time'] for l in open(sys.argv[1]) if '"mode": "train"' in l]
print(f"{statistics.median(times[3:]) * 1e3:.0f}")
PY
}

rm -rf "$work/one" "$work/two"
t0=$(date +%s.%N)
CPPDET_NUM_THREADS=2 "$cppdet" train "$config" --work-dir "$work/one" "${common[@]}" data.samples_per_gpu=4 >/dev/null
t1=$(date +%s.%N)
PORT=${PORT:-29741} CPPDET_NUM_THREADS=1 CPPDET="$cppdet" bash "$root/scripts/dist_train.sh" "$config" 2 \
  --work-dir "$work/two" "${common[@]}" data.samples_per_gpu=2 >/dev/null
t2=$(date +%s.%N)
one=$(iter_ms "$(ls "$work"/one/*.log.json)")
two=$(iter_ms "$(ls "$work"/two/*.log.json)")
python3 - "$one" "$two" "$t0" "$t1" "$t2" <<'PY'
import sys
one, two, t0, t1, t2 = map(float, sys.argv[1:])
print(f"1 process x 2 threads, batch 4:      {one:6.0f} ms/iter  {4000 / one:5.1f} img/s  (run {t1 - t0:5.1f} s)")
print(f"2 processes x 1 thread, 2 + 2:       {two:6.0f} ms/iter  {4000 / two:5.1f} img/s  (run {t2 - t1:5.1f} s)")
print(f"throughput 2 processes / 1 process: {one / two:.2f}")
PY
