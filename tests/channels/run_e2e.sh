#!/usr/bin/env bash
# Runs the channels end-to-end tests against real loopback servers it starts and always stops.
#   run_e2e.sh smtp    PATH/TO/channels_e2e_test   aiosmtpd sink, then mailparser checks
#   run_e2e.sh webhook PATH/TO/channels_e2e_test   node http receiver
# Exits 77 (CTest SKIP) only when node is missing. Needs Debian's python3-aiosmtpd for
# /usr/bin/python3 and installs mailparser with `npm ci` here on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:?usage: run_e2e.sh smtp|webhook PATH/TO/channels_e2e_test}"
bin="${2:?usage: run_e2e.sh smtp|webhook PATH/TO/channels_e2e_test}"

if ! command -v node >/dev/null 2>&1; then
  echo "channels_e2e: 'node' not found; skipping (install nodejs to run)" >&2
  exit 77
fi

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Waits up to 15 s for a server to write its port file; fails if the server died first.
wait_port() {
  local file="$1" pid="$2"
  for _ in $(seq 300); do
    [ -s "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "channels_e2e: server exited early" >&2; return 1; }
    sleep 0.05
  done
  echo "channels_e2e: server did not start" >&2
  return 1
}

case "$mode" in
  smtp)
    if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
      echo "channels_e2e: /usr/bin/python3 lacks aiosmtpd; apt-get install python3-aiosmtpd" >&2
      exit 1
    fi
    if [ ! -d "$here/node_modules/mailparser" ]; then
      echo "channels_e2e: installing mailparser (npm ci in $here)" >&2
      (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
    /usr/bin/python3 "$here/smtp_sink.py" --port-file "$tmp/smtp.port" --dir "$tmp/mail" \
      --max-seconds 300 &
    pids+=($!)
    wait_port "$tmp/smtp.port" "${pids[0]}"
    WAYMARK_SMTP_PORT="$(cat "$tmp/smtp.port")" WAYMARK_E2E_DIR="$tmp" \
      "$bin" --gtest_filter='SmtpE2e.*'
    node "$here/check_mail.js" "$tmp/mail" "$tmp/expected.json"
    ;;
  webhook)
    secret="whsec_e2e_$$"
    node "$here/webhook_sink.js" --port-file "$tmp/hook.port" --secret "$secret" \
      --log "$tmp/requests.jsonl" --max-seconds 300 &
    pids+=($!)
    wait_port "$tmp/hook.port" "${pids[0]}"
    WAYMARK_WEBHOOK_URL="http://127.0.0.1:$(cat "$tmp/hook.port")" \
      WAYMARK_WEBHOOK_LOG="$tmp/requests.jsonl" WAYMARK_WEBHOOK_SECRET="$secret" \
      "$bin" --gtest_filter='WebhookE2e.*'
    ;;
  *)
    echo "channels_e2e: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
