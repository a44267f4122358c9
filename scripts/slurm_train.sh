#!/usr/bin/env bash
# MMDetection's tools/slurm_train.sh: trains on a Slurm cluster,
#   scripts/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [cppdet train arguments...]
# = srun -p PARTITION --job-name=JOB_NAME --ntasks=GPUS --ntasks-per-node=GPUS_PER_NODE ...
#     cppdet train CONFIG --work-dir=WORK_DIR --launcher=slurm ARGS
# Each task reads SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID / SLURM_NODELIST; the first node
# of the list hosts the rendezvous on MASTER_PORT (default 29500).
# Environment: GPUS (8 tasks), GPUS_PER_NODE (8), CPUS_PER_TASK (5), GRES (gpu:GPUS_PER_NODE;
# empty for CPU-only nodes), SRUN_ARGS (extra srun arguments), CPPDET (the executable).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$#" -lt 4 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [cppdet train arguments...]" >&2
  exit 2
fi
partition=$1
job_name=$2
config=$3
work_dir=$4
shift 4
gpus=${GPUS:-8}
gpus_per_node=${GPUS_PER_NODE:-8}
gres=${GRES-gpu:${gpus_per_node}}
gres_arg=()
[ -z "$gres" ] || gres_arg=(--gres="$gres")
# SRUN_ARGS is a list of words, as in MMDetection's script.
read -r -a srun_args <<< "${SRUN_ARGS:-}"
exec srun -p "$partition" --job-name="$job_name" "${gres_arg[@]}" --ntasks="$gpus" \
  --ntasks-per-node="$gpus_per_node" --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 "${srun_args[@]}" \
  "${CPPDET:-$root/build/bin/cppdet}" train "$config" --work-dir="$work_dir" --launcher=slurm "$@"
