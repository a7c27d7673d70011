#!/usr/bin/env bash
# Instructions per get+drop on the paths of issue 13, counted by callgrind: the
# local pool (`BufferPool::get`) and the global pool (`mempool::get_buffer`),
# untouched in every bucket, and written in full at 512 B, 1 KiB and 4 KiB
# next to the floor (write + zero on a hot buffer). As in callgrind.sh, each
# row runs at two iteration counts and the difference is divided, so start-up
# and warm-up cancel. The harness row (the same loop without the pool) says
# how much of an untouched row is the loop itself; the floor row has its loop
# too, so "above the floor" needs no correction.
#
#   benches/scripts/callgrind-paths.sh [run_row binary]     (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."
exe=${1:-$(cargo bench -p mempool-benches --bench run_row --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*run_row-[0-9a-f]*\)).*/\1/p' | tail -1)}
[ -x "$exe" ] || { echo "run_row binary not found" >&2; exit 1; }
low=1000
high=3000
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_op() {
    local a b
    a=$(instructions "$@" --iters $low)
    b=$(instructions "$@" --iters $high)
    echo $(( (b - a) / (high - low) ))
}
harness=$(per_op --row harness --workload untouched --size 1024)
echo "The untouched columns include $harness instructions of loop and black_box (--row harness)."
echo
echo "| size | local untouched | global untouched | local write all | global write all | floor |"
echo "|---|---|---|---|---|---|"
for size in 512 1024 4096 16384 65536 262144 1048576 4194304 16777216; do
    lu=$(per_op --row mempool --workload untouched --size $size)
    gu=$(per_op --row global --workload untouched --size $size)
    if [ $size -le 4096 ]; then
        lw=$(per_op --row mempool --size $size)
        gw=$(per_op --row global --size $size)
        fl=$(per_op --row floor --size $size)
    else
        lw=–; gw=–; fl=–
    fi
    echo "| $size | $lu | $gu | $lw | $gw | $fl |"
done
