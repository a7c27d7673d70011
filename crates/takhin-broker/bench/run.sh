#!/usr/bin/env bash
# The broker benchmark (not a test; run it on a quiet machine): for the pool
# and for plain Vec request buffers, start a release broker, then for 100 B
# and 1 KiB records and each codec run kafka_bench.py (librdkafka in another
# process), and print throughput, the broker's heap allocations per request
# and its peak RSS.
#
#   crates/takhin-broker/bench/run.sh [megabytes per row, default 100]
#
# Needs the venv of .ci/run (target/kafka-venv) or TAKHIN_KAFKA_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../../.."
megabytes=${1:-100}
python=${TAKHIN_KAFKA_PYTHON:-target/kafka-venv/bin/python}
cargo build -q --release -p takhin-broker --features count-allocations
broker=target/release/takhin-broker
for buffers in pool vec; do
  dir=$(mktemp -d)
  log=$(mktemp)
  "$broker" --listen 127.0.0.1:0 --data-dir "$dir" --metrics 127.0.0.1:0 \
    --request-buffers "$buffers" >"$log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
  for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
  addr=$(sed -n 's/.*listening on //p' "$log")
  metrics=$(sed -n 's|.*metrics on http://\(.*\)/metrics|\1|p' "$log")
  echo
  echo "request buffers: $buffers"
  echo "| record B | codec | records | produce rec/s | produce MB/s | fetch rec/s | fetch MB/s |"
  echo "|---|---|---|---|---|---|---|"
  for size in 100 1024; do
    for codec in none gzip snappy lz4 zstd; do
      "$python" crates/takhin-broker/bench/kafka_bench.py --bootstrap "$addr" \
        --size "$size" --codec "$codec" --megabytes "$megabytes"
    done
  done
  sleep 1.5 # the reporters publish every second
  scrape=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://$metrics/metrics').read().decode())")
  sum() { echo "$scrape" | awk -v n="$1" '$1 ~ "^"n"({|$)" {s += $NF} END {printf "%.0f", s}'; }
  requests=$(sum takhin_broker_requests_total)
  allocations=$(sum takhin_broker_heap_allocations_total)
  echo "requests $requests, heap allocations $allocations ($(python3 -c "print(f'{$allocations / max($requests, 1):.1f}')") per request)"
  echo "peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir" "$log"
  trap - EXIT
done
