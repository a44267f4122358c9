#!/usr/bin/env bash
# MMDetection's tools/dist_train.sh: trains with NPROC processes on this machine,
#   scripts/dist_train.sh CONFIG NPROC [cppdet train arguments...]
# = NPROC x `cppdet train CONFIG --launcher pytorch --seed 0 ARGS` (ARGS may give another --seed).
# Environment: NNODES, NODE_RANK, MASTER_ADDR, PORT (several machines: run it on each with its
# NODE_RANK), CPPDET (the executable, default build/bin/cppdet), CPPDET_NUM_THREADS, and
# CPPDET_DIST_GRACE (scripts/dist_launch.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$#" -lt 2 ]; then
  echo "usage: $0 CONFIG NPROC [cppdet train arguments...]" >&2
  exit 2
fi
config=$1
nproc=$2
shift 2
seed=(--seed 0)
for arg in "$@"; do
  case "$arg" in --seed|--seed=*) seed=() ;; esac
done
exec bash "$root/scripts/dist_launch.sh" "$nproc" "${CPPDET:-$root/build/bin/cppdet}" train "$config" \
  --launcher pytorch "${seed[@]}" "$@"
