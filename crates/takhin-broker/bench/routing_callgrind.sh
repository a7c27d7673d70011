#!/usr/bin/env bash
# Instructions per get+drop (untouched buffer, routing included) with the
# pool's default buckets and with the broker's request buckets (four per
# doubling), counted by callgrind at two iteration counts so start-up
# cancels. Needs valgrind. Load does not change instruction counts.
#
#   crates/takhin-broker/bench/routing_callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
cargo build -q --release -p takhin-broker --example route_cost
exe=target/release/examples/route_cost
low=1000
high=11000
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "| size | default buckets | request buckets |"
echo "|---|---|---|"
for size in 1500 7000 16000 70000 1153434 1900000 60000000; do
    row="| $size"
    for buckets in default request; do
        a=$(instructions "$buckets" "$size" $low)
        b=$(instructions "$buckets" "$size" $high)
        row="$row | $(( (b - a) / (high - low) ))"
    done
    echo "$row |"
done
