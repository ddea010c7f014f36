#!/usr/bin/env bash
# The scale figures of BENCHMARKS.md: replicate scaling (motornet-bench --replicates), "train 10 seeds" as one
# replicate run versus 10 separate runs (motornet-sweep, 2 at a time on this 2-core machine), and
# data-parallel scaling (1 and 2 processes). Usage: bench/scale.sh [BATCHES] (default 100), after scripts/build.
set -euo pipefail
cd "$(dirname "$0")/.."
batches=${1:-100}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() {  # wall-clock seconds of a command (its output discarded)
  local start end
  start=$(date +%s%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s%N)
  printf '%d.%02d' $(((end - start) / 1000000000)) $((((end - start) / 10000000) % 100))
}

echo "== replicate scaling: W1 (tutorial), ms per batch of all K replicates"
for threads in 1 2; do
  for k in 1 4 10 32; do
    build/motornet-bench --workload W1 --replicates "$k" --threads "$threads" --batches 20
  done
done

echo "== 10 seeds of configs/tutorial_pointmass.yaml, $batches batches each (wall-clock s, including evaluation)"
echo "one process, training.replicates=10: $(seconds build/motornet-train configs/tutorial_pointmass.yaml --out "$out/replicates" \
  --set training.replicates=10 --set training.n_batches="$batches" --quiet)"
echo "10 separate runs, 2 at a time (motornet-sweep --jobs 2): $(seconds build/motornet-sweep configs/tutorial_pointmass.yaml \
  --grid seed=0,1,2,3,4,5,6,7,8,9 --jobs 2 --out "$out/sweep" --set training.n_batches="$batches")"

echo "== data-parallel: $batches batches (wall-clock s, including evaluation)"
for config in tutorial_pointmass arm26_reach; do
  for n in 1 2; do
    echo "$config, $n process(es): $(seconds build/motornet-train configs/$config.yaml --out "$out/dp-$config-$n" \
      --set training.n_batches="$batches" --set training.validation_every=0 --nproc "$n" --quiet)"
  done
done
