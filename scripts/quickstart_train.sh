#!/usr/bin/env bash
# README command 1, the training quick start: set up, build, render the synthetic shapes dataset,
# train the quick-start Mask R-CNN (half-width ResNet-18 + FPN) on it from scratch, evaluate it
# after every epoch, and draw the trained model's detections on a held-out image.
# Environment (optional): CPPDET_BUILD_DIR (default build), QUICKSTART_WORK_DIR (default
# work_dirs/mask_rcnn_r18_fpn_shapes), QUICKSTART_DEVICE (default cpu), CPPDET_CONFIGURE_ONLY=1 (set up
# and configure the build, then stop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
# Only the `cppdet` executable is needed: build that target and leave the build directory's other
# options (tests, benchmarks) as they are, so this never changes what README command 2 builds.
CPPDET_TARGETS=cppdet_cli bash scripts/build.sh
[ "${CPPDET_CONFIGURE_ONLY:-0}" = 1 ] && exit 0  # configure only (the README-commands test)
cppdet="${CPPDET_BUILD_DIR:-build}/bin/cppdet"
config=configs/quickstart/mask_rcnn_r18_fpn_shapes.py
work_dir=${QUICKSTART_WORK_DIR:-work_dirs/mask_rcnn_r18_fpn_shapes}
device=${QUICKSTART_DEVICE:-cpu}

# 1. The dataset: data/shapes/{train,val}/*.png + annotations/instances_{train,val}.json.
"$cppdet" data synth-shapes data/shapes --train 400 --val 50 --seed 0 --size 192x192

# 2. Train from scratch; evaluates bbox and segm mAP on data/shapes/val after every epoch.
start=$(date +%s)
"$cppdet" train "$config" --work-dir "$work_dir" --seed 0 --device "$device"
echo "quickstart: training took $(( $(date +%s) - start )) s"

# 3. Detect objects in a held-out (validation) image with the trained weights and draw them,
#    three times the image's size so that the labels are legible (576x576).
mkdir -p out
"$cppdet" demo image data/shapes/val/000000.png "$config" "$work_dir/latest.pth" \
  --device "$device" --score-thr 0.5 --scale 3 --out-file out/quickstart_result.png

log_json=$(ls -t "$work_dir"/*.log.json | head -n 1)
echo
echo "quickstart: final validation metrics (from $root/$log_json):"
grep '"mode": "val"' "$log_json" | tail -n 1
echo "quickstart: checkpoints and logs in $root/$work_dir"
echo "quickstart: detections drawn on data/shapes/val/000000.png -> $root/out/quickstart_result.png"
