#!/usr/bin/env bash
# Runs tests/serve/serve_e2e.js against `waymark serve`: the official Segment Node client in,
# the admin API and a local webhook receiver out (see the script's header).
#   run_serve_e2e.sh PATH/TO/waymark
# Installs the client with `npm ci` on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:?usage: run_serve_e2e.sh PATH/TO/waymark}"
if [ ! -d "$here/node_modules/@segment/analytics-node" ]; then
  echo "serve_e2e: installing @segment/analytics-node (npm ci in $here)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec node "$here/serve_e2e.js" "$bin" "$here/config.yaml"
