#!/usr/bin/env bash
# The README's two commands must each be correct whatever ran before them in the same checkout
# (issue: command 1 left build/ with tests off, and command 2 then "passed" with no test run).
# Configure-only: each scenario configures a scratch build directory through the real scripts
# (CPPDET_CONFIGURE_ONLY=1 stops them after configuring) and checks what it would build.
set -euo pipefail
root=${CPPDET_SOURCE_DIR:?}
cd "$root"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export CPPDET_CONFIGURE_ONLY=1

# Fails unless the build graph in $1 holds the test executables and the cppdet executable.
expect_tests_enabled() {
  local targets
  targets=$(ninja -C "$1" -t targets all)
  grep -q '^tests/test_core:' <<<"$targets" || { echo "FAIL ($2): no test targets in $1" >&2; exit 1; }
  grep -q '^bin/cppdet:' <<<"$targets" || { echo "FAIL ($2): no cppdet executable in $1" >&2; exit 1; }
  grep -q '^CPPDET_BUILD_TESTS:BOOL=ON$' "$1/CMakeCache.txt" || { echo "FAIL ($2): tests are off" >&2; exit 1; }
  echo "ok: $2"
}

# 1. A build directory as an older command 1 left it (tests and benchmarks off), then command 2.
cmake -S "$root" -B "$scratch/old" -G Ninja -DCPPDET_BUILD_TESTS=OFF -DCPPDET_BUILD_BENCH=OFF >/dev/null
CPPDET_BUILD_DIR="$scratch/old" bash scripts/test.sh >/dev/null
expect_tests_enabled "$scratch/old" "tests-off build directory, then command 2"

# 2. Command 1, then command 2, in a fresh build directory.
CPPDET_BUILD_DIR="$scratch/fresh" bash scripts/quickstart_train.sh >/dev/null
CPPDET_BUILD_DIR="$scratch/fresh" bash scripts/test.sh >/dev/null
expect_tests_enabled "$scratch/fresh" "command 1, then command 2"

# 3. The reverse order: command 2's build directory stays a test build after command 1.
CPPDET_BUILD_DIR="$scratch/fresh" bash scripts/quickstart_train.sh >/dev/null
expect_tests_enabled "$scratch/fresh" "command 2, then command 1"
