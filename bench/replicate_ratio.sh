#!/usr/bin/env bash
# Issue 15's replicate target on one machine: ten replicates on two threads against one network on one thread,
# measured in the same round so that a slow stretch of the machine hits both. Each round runs every binary given
# (default: build/motornet-bench), one network then ten replicates, and prints both medians and their ratio.
# Usage: bench/replicate_ratio.sh [ROUNDS] [WORKLOAD] [BINARY ...]   (defaults: 5, W1)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
workload=${2:-W1}
shift $(($# < 2 ? $# : 2))
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(build/motornet-bench)
single_batches=100 replicate_batches=60
[ "$workload" = W2 ] && single_batches=30 replicate_batches=10
median() { grep -o '"ms_per_batch_median":[0-9.]*' | cut -d: -f2; }
for round in $(seq "$rounds"); do
  for binary in "${binaries[@]}"; do
    one=$("$binary" --workload "$workload" --threads 1 --batches "$single_batches" --warmup 3 --json | median)
    ten=$("$binary" --workload "$workload" --replicates 10 --threads 2 --batches "$replicate_batches" --warmup 3 \
      --json | median)
    awk -v r="$round" -v b="$binary" -v one="$one" -v ten="$ten" \
      'BEGIN { printf "round %s %s: one network %.2f ms, ten replicates %.2f ms, ratio %.2f\n",
               r, b, one, ten, ten / one }'
  done
done
