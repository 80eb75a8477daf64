#!/usr/bin/env bash
# Replays real data sets twice with one shard and once with four, and requires byte-identical
# outboxes and suppression logs. Usage: replay_determinism.sh WAYMARK_BINARY SOURCE_DIR
set -euo pipefail
waymark=$1
src=$2
data=${WAYMARK_DATA:-$src/../shared/data}
if [ ! -d "$data" ]; then
  echo "SKIP: no data folder at $data"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {  # name events mapping shards out-prefix
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$2" --mapping "$3" \
    --shards "$4" --outbox "$5.outbox" --suppressions "$5.supp" > "$5.report"
}

check() {  # name events mapping
  run "$1" "$2" "$3" 1 "$tmp/$1-a"
  run "$1" "$2" "$3" 1 "$tmp/$1-b"
  run "$1" "$2" "$3" 4 "$tmp/$1-c"
  local n
  n=$(wc -l < "$tmp/$1-a.outbox")
  [ "$n" -gt 0 ] || { echo "FAIL $1: empty outbox"; exit 1; }
  cmp "$tmp/$1-a.outbox" "$tmp/$1-b.outbox" || { echo "FAIL $1: two runs differ"; exit 1; }
  cmp "$tmp/$1-a.outbox" "$tmp/$1-c.outbox" || { echo "FAIL $1: 1 vs 4 shards differ"; exit 1; }
  cmp "$tmp/$1-a.supp" "$tmp/$1-c.supp" || { echo "FAIL $1: suppressions differ"; exit 1; }
  # Reports agree except for the wall time, rate and shard count lines.
  diff <(grep -v -e '^  run ' "$tmp/$1-a.report") <(grep -v -e '^  run ' "$tmp/$1-c.report") \
    || { echo "FAIL $1: reports differ"; exit 1; }
  echo "ok $1: $n messages, identical across runs and shard counts"
}

# Tracing a profile changes nothing but the trace.
traced() {  # name events mapping profile
  run "$1" "$2" "$3" 1 "$tmp/$1-a"
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$2" --mapping "$3" \
    --shards 2 --outbox "$tmp/$1-t.outbox" --suppressions "$tmp/$1-t.supp" --trace "$4" \
    --trace-file "$tmp/$1-t.trace" > "$tmp/$1-t.report"
  [ -s "$tmp/$1-t.trace" ] || { echo "FAIL $1: no trace of $4"; exit 1; }
  cmp "$tmp/$1-a.outbox" "$tmp/$1-t.outbox" || { echo "FAIL $1: tracing changed the outbox"; exit 1; }
  diff <(grep -v -e '^  run ' "$tmp/$1-a.report") <(grep -v -e '^  run ' "$tmp/$1-t.report") \
    || { echo "FAIL $1: tracing changed the report"; exit 1; }
  echo "ok $1: tracing profile $4 changes nothing else"
}

check taobao "$data/taobao-userbehavior-head/UserBehavior1.csv" "$src/mappings/taobao.yaml"
check rees46 "$data/rees46-multicategory-2019-oct-head/2019-Oct.csv" "$src/mappings/rees46.yaml"
check diginetica "$data/diginetica-sample/sample_train-item-views.csv" \
  "$src/mappings/diginetica.yaml"
traced taobao "$data/taobao-userbehavior-head/UserBehavior1.csv" "$src/mappings/taobao.yaml" 100
