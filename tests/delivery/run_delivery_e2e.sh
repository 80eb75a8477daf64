#!/usr/bin/env bash
# Runs tests/delivery/delivery_e2e.js against `waymark serve` with a real SMTP server (aiosmtpd
# from Debian's python3-aiosmtpd) and mailparser from npm (installed with `npm ci` on first use).
#   run_delivery_e2e.sh PATH/TO/waymark
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:?usage: run_delivery_e2e.sh PATH/TO/waymark}"
if [ ! -d "$here/node_modules/mailparser" ]; then
  echo "delivery_e2e: installing mailparser (npm ci in $here)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec node "$here/delivery_e2e.js" "$bin"
