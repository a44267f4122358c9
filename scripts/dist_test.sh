#!/usr/bin/env bash
# MMDetection's tools/dist_test.sh: tests a checkpoint with NPROC processes on this machine,
#   scripts/dist_test.sh CONFIG CHECKPOINT NPROC [cppdet test arguments: --eval bbox --out r.json ...]
# = NPROC x `cppdet test CONFIG CHECKPOINT --launcher pytorch ARGS`; rank 0 gathers the results in
# dataset order and writes / evaluates them once. Environment as scripts/dist_train.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$#" -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT NPROC [cppdet test arguments...]" >&2
  exit 2
fi
config=$1
checkpoint=$2
nproc=$3
shift 3
exec bash "$root/scripts/dist_launch.sh" "$nproc" "${CPPDET:-$root/build/bin/cppdet}" test "$config" "$checkpoint" \
  --launcher pytorch "$@"
