#!/usr/bin/env bash
# The main job: install, build, and replay nine days of real Taobao shop history through the
# retail example journeys. Prints the report; writes the outbox and JSON report to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${WAYMARK_DATA:-../shared/data}
events="$data/taobao-userbehavior-head/UserBehavior1.csv"
if [ ! -r "$events" ]; then
  echo "demo: cannot read $events; set WAYMARK_DATA to the folder holding the data sets" >&2
  exit 1
fi

bash scripts/setup.sh
echo "demo: building waymark into build-release (the first build takes a few minutes)"
bash scripts/build.sh build-release Release OFF waymark
mkdir -p out
./build-release/src/cli/waymark validate examples/retail
./build-release/src/cli/waymark replay \
  --config examples/retail \
  --events "$events" \
  --mapping mappings/taobao.yaml \
  --shards 2 \
  --outbox out/outbox.jsonl \
  --suppressions out/suppressions.jsonl \
  --report out/report.json "$@"
echo
echo "outbox: out/outbox.jsonl ($(wc -l < out/outbox.jsonl) messages), report: out/report.json"
