#!/usr/bin/env bash
# Differential test: renders corpus.json with liquidjs and with our liquid_render and compares the
# results byte for byte. Usage: run_diff.sh PATH/TO/liquid_render [CORPUS.json]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
render="${1:?usage: run_diff.sh PATH/TO/liquid_render [CORPUS.json]}"
corpus="${2:-$here/corpus.json}"

if ! command -v node >/dev/null 2>&1; then
  echo "template_liquid_diff: 'node' not found; install Node.js 18 or newer (and npm) to run" \
       "the liquidjs differential test" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/liquidjs" ]; then
  echo "template_liquid_diff: installing liquidjs (npm ci in $here)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2) || {
    echo "template_liquid_diff: 'npm ci' failed in $here" >&2
    exit 1
  }
fi
TZ=UTC exec node "$here/diff.js" "$corpus" "$render"
