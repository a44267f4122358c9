#!/usr/bin/env bash
# README command 2: set up, build (tests on, benchmarks off, whatever the build directory held
# before), and run every test (CTest), then each libFuzzer target for a fixed time
# (CPPDET_FUZZ_SECONDS, default 60; 0 skips fuzzing).
# Environment (optional): CPPDET_BUILD_DIR (default build/), CPPDET_QUICKSTART_TEST=0 (leave out the
# quick-start training test), CPPDET_MIN_TESTS (fail when CTest ran fewer tests; .ci/run sets it),
# CPPDET_CONFIGURE_ONLY=1 (set up and configure the build, then stop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${CPPDET_BUILD_DIR:-$root/build}
start=$(date +%s)
bash scripts/setup.sh
bash scripts/build.sh -DCPPDET_BUILD_TESTS=ON -DCPPDET_BUILD_BENCH=OFF
[ "${CPPDET_CONFIGURE_ONLY:-0}" = 1 ] && exit 0
built=$(date +%s)
echo "build: $((built - start)) s (incl. setup)"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
# The quick-start training acceptance run (label "quickstart", ~7 minutes of training, serial)
# is included; CPPDET_QUICKSTART_TEST=0 leaves it out (`ctest -L quickstart` runs it alone).
labels=()
[ "${CPPDET_QUICKSTART_TEST:-1}" = 0 ] && labels=(-LE quickstart)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --no-tests=error: a build without tests fails here instead of passing with nothing run.
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$(nproc)" "${labels[@]}" | tee "$log"
ran=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
tested=$(date +%s)
echo "tests: ${ran:-0} run in $((tested - built)) s"
if [ "${ran:-0}" -lt "${CPPDET_MIN_TESTS:-1}" ]; then
  echo "tests: only ${ran:-0} tests ran, expected at least ${CPPDET_MIN_TESTS:-1}" >&2
  exit 1
fi
bash scripts/fuzz.sh
echo "total: $(( $(date +%s) - start )) s"
