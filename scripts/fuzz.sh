#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for CPPDET_FUZZ_SECONDS
# (default 60). Fails on any crash, hang (one input running over 30 s: the largest config the
# reader accepts takes ~10 s through fuzz_config's round trips under ASan), leak or sanitizer report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${CPPDET_FUZZ_SECONDS:-60}
[ "$seconds" -gt 0 ] || { echo "fuzz: skipped"; exit 0; }
build=$root/build-fuzz
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCPPDET_BUILD_FUZZ=ON -DCPPDET_BUILD_TESTS=OFF -DCPPDET_BUILD_BENCH=OFF -DCPPDET_USE_PCH=OFF >/dev/null
targets=$(cd "$root/tests/fuzz" && ls fuzz_*.cpp 2>/dev/null | sed 's/\.cpp$//')
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found in tests/fuzz" >&2; exit 1; }
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets
for t in $targets; do
  [ -x "$build/tests/fuzz/$t" ] || { echo "fuzz: $t was not built" >&2; exit 1; }
done
for t in $targets; do
  corpus=$(mktemp -d)
  seeds="$root/tests/fuzz/corpus/${t#fuzz_}"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
  echo "fuzz: $t for ${seconds}s"
  "$build/tests/fuzz/$t" "$corpus" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=0 2>"$corpus.log" || { tail -50 "$corpus.log"; echo "fuzz: $t FAILED"; exit 1; }
  tail -1 "$corpus.log"
  rm -rf "$corpus" "$corpus.log"
done
echo "fuzz: all targets clean"
