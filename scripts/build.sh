#!/usr/bin/env bash
# Configures and builds cppdet in build/ (Release, Ninja, ccache). Extra arguments go to cmake,
# e.g. scripts/build.sh -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')"
# Environment (optional): CPPDET_BUILD_DIR (default build/), CPPDET_JOBS (default: the core count),
# CPPDET_TARGETS (space-separated targets to build; default all), CPPDET_CONFIGURE_ONLY=1 (configure,
# then stop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CPPDET_BUILD_DIR:-$root/build}
jobs=${CPPDET_JOBS:-$(nproc)}
# ccache: hash paths relative to the checkout (so clones share hits) and accept the torch PCH.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
[ "${CPPDET_CONFIGURE_ONLY:-0}" = 1 ] && exit 0
targets=()
for t in ${CPPDET_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$jobs" "${targets[@]}"
