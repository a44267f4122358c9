#!/usr/bin/env bash
# Configures and builds cppdet in build/ (Release, Ninja, ccache). Extra arguments go to cmake,
# e.g. scripts/build.sh -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CPPDET_BUILD_DIR:-$root/build}
jobs=${CPPDET_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$jobs"
