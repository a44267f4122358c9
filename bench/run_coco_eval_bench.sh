#!/usr/bin/env bash
# Runs every COCO-evaluation benchmark, each measurement in its own process (peak RSS per
# workload). Usage: bench/run_coco_eval_bench.sh BUILD_DIR [DATA_DIR]
#   BUILD_DIR: a build with bench/bench_coco_eval; DATA_DIR (default BUILD_DIR/coco_bench_data)
#   receives the generated inputs (~1.2 GB) and is reused on later runs.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [DATA_DIR]}
data=${2:-$build/coco_bench_data}
bench=$build/bench/bench_coco_eval
[ -x "$bench" ] || { echo "missing $bench (build target bench_coco_eval)"; exit 1; }
mkdir -p "$data"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== large_val2017 bbox (5000 images, 500000 detections) vs pycocotools"
"$bench" large "$data/large_val2017"
[ -f "$data/segm5000/dt_segm.json" ] || "$bench" gen-segm "$data/segm5000"
echo "== segm, 5000 images x 100 detections (synthetic)"
"$bench" eval "$data/segm5000" segm
[ -f "$data/crowded/dt_bbox.json" ] || "$bench" gen-crowded "$data/crowded"
echo "== crowded bbox, 1500 images x 2000 detections (synthetic)"
"$bench" eval "$data/crowded" bbox
[ -f "$data/instances_train2017_synth.json" ] || "$bench" gen-train "$data/instances_train2017_synth.json"
echo "== COCO annotation load, instances_train2017-sized file (synthetic)"
"$bench" load "$data/instances_train2017_synth.json"
