#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on its embedded default — detect
# objects in the bundled demo image with the bundled tiny Mask R-CNN checkpoint and draw them.
# Arguments (all optional): IMAGE CONFIG CHECKPOINT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/build.sh -DCPPDET_BUILD_TESTS=OFF -DCPPDET_BUILD_BENCH=OFF
case_dir=tests/fixtures/oracle_cases/mask_tiny_r50
image=${1:-demo/demo.jpg}
config=${2:-$case_dir/config.py}
checkpoint=${3:-$case_dir/checkpoint_zip.pth}
mkdir -p out
"${CPPDET_BUILD_DIR:-build}/bin/cppdet" demo image "$image" "$config" "$checkpoint" \
  --score-thr 0.3 --out-file out/demo_result.jpg
echo "quickstart: detections drawn on $image -> $root/out/demo_result.jpg"
