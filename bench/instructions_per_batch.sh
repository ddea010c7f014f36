#!/usr/bin/env bash
# Instructions per training batch, counted by callgrind (repeatable whatever else the machine is doing): the
# difference between runs of N1 and N2 timed batches, over N2 - N1, which removes start-up and warm-up.
#   bench/instructions_per_batch.sh BINARY W1|W2|W3|CONFIG.yaml N1 N2
# e.g. bench/instructions_per_batch.sh build/motornet-bench W1 5 25
#
# Debian's libavcodec loads libhwy, whose initialiser runs rdtscp, an instruction valgrind 3.19 cannot decode
# (the run dies with SIGILL). motornet-bench never calls it, so valgrind's runs load a stand-in that only
# exports the five symbols libjxl (libhwy's user) binds to.
set -euo pipefail
binary=$1 workload=$2 n1=$3 n2=$4
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat > "$stub/stub.c" <<'C'
void _ZN3hwy14AlignedDeleter18DeleteAlignedArrayEPvPFvS1_S1_ES1_PFvS1_mE(void) {}
void _ZN3hwy15GetChosenTargetEv(void) {}
void _ZN3hwy16FreeAlignedBytesEPKvPFvPvS2_ES2_(void) {}
void _ZN3hwy16SupportedTargetsEv(void) {}
void _ZN3hwy20AllocateAlignedBytesEmPFPvS0_mES0_(void) {}
C
echo 'HWY_0 { global: *; };' > "$stub/version.map"
gcc -shared -fPIC -o "$stub/libhwy.so.1" "$stub/stub.c" -Wl,--version-script="$stub/version.map" -Wl,-soname,libhwy.so.1
if [[ $workload == *.yaml ]]; then args=(--config "$workload"); else args=(--workload "$workload"); fi
count() {
  LD_LIBRARY_PATH="$stub" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "${args[@]}" \
    --threads 1 --batches "$1" --warmup 1 2>&1 | sed -n 's/.*I   refs: *//p' | tr -d ,
}
first=$(count "$n1")
second=$(count "$n2")
echo "$workload: $(( (second - first) / (n2 - n1) )) instructions per batch ($binary)"
