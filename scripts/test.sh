#!/usr/bin/env bash
# README command 2: set up, build, and run every test (CTest), then each libFuzzer target for a
# fixed time (CPPDET_FUZZ_SECONDS, default 60; 0 skips fuzzing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$(date +%s)
bash scripts/setup.sh
bash scripts/build.sh -DCPPDET_BUILD_BENCH=OFF
built=$(date +%s)
echo "build: $((built - start)) s (incl. setup)"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
# The quick-start training acceptance run (label "quickstart", minutes of training) runs only
# when CPPDET_QUICKSTART_TEST=1: `ctest -L quickstart` in the build folder.
labels=(-LE quickstart)
[ "${CPPDET_QUICKSTART_TEST:-0}" = 1 ] && labels=()
ctest --test-dir "${CPPDET_BUILD_DIR:-$root/build}" --output-on-failure -j "$(nproc)" "${labels[@]}"
tested=$(date +%s)
echo "tests: $((tested - built)) s"
bash scripts/fuzz.sh
echo "total: $(( $(date +%s) - start )) s"
