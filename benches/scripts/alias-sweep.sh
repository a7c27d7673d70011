#!/usr/bin/env bash
# The 4 KiB aliasing check (docs/benchmarks.md): runs the 1 KiB get+write+drop
# row with environments of 0 to 4032 extra bytes, which move the stack (and
# with it the guard the loop keeps there) against the buffer within a 4 KiB
# page, and prints the time per operation at each offset. Timed: run it on a
# quiet machine.
#
#   benches/scripts/alias-sweep.sh [row] [size]
set -euo pipefail
row=${1:-global}
size=${2:-1024}
cd "$(dirname "$0")/../.."
exe=$(cargo bench -p mempool-benches --bench run_row --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*run_row-[0-9a-f]*\)).*/\1/p' | tail -1)
echo "| env pad | stack % 4096 | buffer % 4096 | ns per op |"
echo "|---|---|---|---|"
for pad in $(seq 0 64 4032); do
    out=$(env -i PAD="$(printf '%*s' "$pad" '' | tr ' ' x)" "$exe" --row "$row" \
        --size "$size" --iters 2000000 --time)
    stack=$(sed -n 's/.*stack%4096=\([0-9]*\).*/\1/p' <<<"$out")
    buf=$(sed -n 's/.*buf%4096=\([0-9]*\).*/\1/p' <<<"$out")
    ns=$(sed -n 's/.*: \([0-9.]*\) ns per op/\1/p' <<<"$out")
    echo "| $pad | $stack | $buf | $ns |"
done
