#!/usr/bin/env bash
# The main job: install, build, and replay nine days of real Taobao shop history through the
# retail example journeys. Prints the report; writes the outbox and JSON report to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${WAYMARK_DATA:-../shared/data}

bash scripts/setup.sh
bash scripts/build.sh build-release Release OFF >/dev/null
mkdir -p out
./build-release/src/cli/waymark validate examples/retail
./build-release/src/cli/waymark replay \
  --config examples/retail \
  --events "$data/taobao-userbehavior-head/UserBehavior1.csv" \
  --mapping mappings/taobao.yaml \
  --shards 2 \
  --outbox out/outbox.jsonl \
  --suppressions out/suppressions.jsonl \
  --report out/report.json "$@"
echo
echo "outbox: out/outbox.jsonl ($(wc -l < out/outbox.jsonl) messages), report: out/report.json"
