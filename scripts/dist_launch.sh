#!/usr/bin/env bash
# Starts NPROC copies of a command as the local ranks of a distributed run, with the
# environment torchrun / torch.distributed.launch gives its workers, and waits for them:
#   scripts/dist_launch.sh NPROC COMMAND [ARGS...]
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500) as MMDetection's
# dist_*.sh; CPPDET_NUM_THREADS per process (default: this machine's cores / NPROC, at least 1);
# CPPDET_DIST_GRACE (60): seconds the other processes get to stop on their own after one fails.
# Each process gets RANK = NODE_RANK * NPROC + i, LOCAL_RANK = i, WORLD_SIZE = NNODES * NPROC,
# MASTER_ADDR, MASTER_PORT. Exit status: 0 when all succeed, else the first failure's.
set -uo pipefail
if [ "$#" -lt 2 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 NPROC COMMAND [ARGS...]   (NPROC: a positive number of processes)" >&2
  exit 2
fi
nproc_per_node=$1
shift
nnodes=${NNODES:-1}
node_rank=${NODE_RANK:-0}
world=$((nnodes * nproc_per_node))
threads=${CPPDET_NUM_THREADS:-$(( $(nproc) / nproc_per_node ))}
[ "$threads" -ge 1 ] || threads=1
grace=${CPPDET_DIST_GRACE:-60}

declare -A rank_of=()
for ((i = 0; i < nproc_per_node; i++)); do
  RANK=$((node_rank * nproc_per_node + i)) LOCAL_RANK=$i WORLD_SIZE=$world \
    MASTER_ADDR=${MASTER_ADDR:-127.0.0.1} MASTER_PORT=${PORT:-29500} CPPDET_NUM_THREADS=$threads "$@" &
  rank_of[$!]=$((node_rank * nproc_per_node + i))
done
# Ctrl-C reaches every process of the terminal's group: the ranks stop together after the
# current iteration (interrupted.pth); this script just keeps waiting for them.
trap ':' INT
trap 'kill -TERM "${!rank_of[@]}" 2>/dev/null' TERM

status=0
timer=""
while [ "${#rank_of[@]}" -gt 0 ]; do
  done_pid=""
  wait -n -p done_pid
  rc=$?
  [ -n "$done_pid" ] || continue  # a trapped signal interrupted the wait
  if [ "$done_pid" = "$timer" ]; then
    echo "dist_launch: ranks ${rank_of[*]} still running ${grace} s after a failure; terminating them" >&2
    kill -TERM "${!rank_of[@]}" 2>/dev/null
    timer=""
    continue
  fi
  rank=${rank_of[$done_pid]}
  unset "rank_of[$done_pid]"
  if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$rc
    echo "dist_launch: rank $rank exited with status $rc" >&2
    if [ "${#rank_of[@]}" -gt 0 ]; then
      sleep "$grace" &
      timer=$!
    fi
  fi
done
[ -z "$timer" ] || kill "$timer" 2>/dev/null
exit "$status"
