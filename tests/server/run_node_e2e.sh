#!/usr/bin/env bash
# Runs the official Segment Node client against waymark_ingest_server and checks what the
# server's file sink wrote; then stops the server with SIGTERM and expects a clean exit.
#   run_node_e2e.sh PATH/TO/waymark_ingest_server
# Exits 77 (CTest SKIP) only when node is missing; installs the client with `npm ci` on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:?usage: run_node_e2e.sh PATH/TO/waymark_ingest_server}"

if ! command -v node >/dev/null 2>&1; then
  echo "segment_node_e2e: 'node' not found; skipping (install nodejs to run)" >&2
  exit 77
fi
if [ ! -d "$here/node_modules/@segment/analytics-node" ]; then
  echo "segment_node_e2e: installing @segment/analytics-node (npm ci in $here)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" --listen 127.0.0.1:0 --write-key e2e-key --out "$tmp/events.jsonl" \
  --port-file "$tmp/port" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.05
done
[ -s "$tmp/port" ] || { echo "segment_node_e2e: server did not start" >&2; exit 1; }

node "$here/segment_client_e2e.js" "$(cat "$tmp/port")" e2e-key "$tmp/events.jsonl"

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
cat "$tmp/server.log" >&2
if [ "$status" -ne 0 ]; then
  echo "segment_node_e2e: server exited with $status after SIGTERM" >&2
  exit 1
fi
grep -q "ingest server stopped" "$tmp/server.log"
