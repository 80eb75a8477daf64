#!/usr/bin/env bash
# Load figures of `waymark serve`: durable ingest rate and latency at fixed open-loop rates.
#
#   bench/serve_load.sh BUILD_DIR [SECONDS] [RATE_EVENTS_PER_S...]
#
# For each rate: a fresh data directory, `waymark serve` with examples/retail on 2 shards and
# --sync always, then waymark_load sending batches of 100 Segment track events (10,000 users)
# for SECONDS (default 10). Prints what waymark_load measures (sustained accepted events/s,
# request latency from the scheduled send, event->decision latency from the server's
# histogram) and the server's CPU time per event. The load generator runs on the same machine.
set -euo pipefail
build=${1:?usage: serve_load.sh BUILD_DIR [SECONDS] [RATE...]}
seconds=${2:-10}
shift 2 || shift $#
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(10000 20000 30000 40000)
root=$(cd "$(dirname "$0")/.." && pwd)
waymark=$build/src/cli/waymark
load=$build/src/server/waymark_load
hz=$(getconf CLK_TCK)

for rate in "${rates[@]}"; do
  dir=$(mktemp -d)
  WAYMARK_WRITE_KEY=wk WAYMARK_ADMIN_TOKEN=t "$waymark" serve --config "$root/examples/retail" \
    --data-dir "$dir/data" --listen 127.0.0.1:0 --port-file "$dir/port" --shards 2 \
    --log-level warn >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  echo "== target $rate events/s for $seconds s"
  "$load" --port "$(cat "$dir/port")" --write-key wk --admin-token t --connections 32 \
    --rate "$(echo "$rate / 100" | bc)" --duration "$seconds" |
    grep -E "sustained|latency|decision|status"
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  events=$(echo "$rate * $seconds" | bc)
  echo "server CPU: $(echo "scale=1; ($cpu1 - $cpu0) * 1000000 / $hz / $events" | bc) us/event"
  kill "$pid"
  wait "$pid" || true
  rm -rf "$dir"
done
