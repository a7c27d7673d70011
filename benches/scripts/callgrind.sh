#!/usr/bin/env bash
# Instructions per operation for the key single-thread rows (1 KiB get, write
# every byte, drop), counted by callgrind: a noise-free second opinion on the
# criterion timings. Runs each row at two iteration counts and divides the
# difference, so start-up and warm-up costs cancel.
#
#   benches/scripts/callgrind.sh [size]     (needs valgrind)
set -euo pipefail
size=${1:-1024}
cd "$(dirname "$0")/../.."
exe=$(cargo bench -p mempool-benches --bench run_row --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*run_row-[0-9a-f]*\)).*/\1/p' | tail -1)
[ -x "$exe" ] || { echo "run_row binary not found" >&2; exit 1; }
low=1000
high=11000
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" \
        --row "$1" --size "$size" --iters "$2" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "| row ($size B, write all) | instructions per op |"
echo "|---|---|"
for row in floor mempool zeropool object_pool vec; do
    a=$(instructions "$row" $low)
    b=$(instructions "$row" $high)
    echo "| $row | $(( (b - a) / (high - low) )) |"
done
