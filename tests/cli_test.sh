#!/usr/bin/env bash
# The `waymark` command as a user meets it: exit codes and the exact error lines for bad configs,
# bad mappings and bad rows. Usage: cli_test.sh WAYMARK_BINARY SOURCE_DIR
set -uo pipefail
waymark=$1
src=$2
data=${WAYMARK_DATA:-$src/../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass=0

expect() {  # description expected-exit-code expected-substring command...
  local what=$1 code=$2 want=$3
  shift 3
  local out
  out=$("$@" 2>&1)
  local got=$?
  if [ "$got" -ne "$code" ] || [[ "$out" != *"$want"* ]]; then
    echo "FAIL $what: exit $got (want $code); output lacks: $want"
    echo "$out" | head -20 | sed 's/^/    /'
    failures=$((failures + 1))
  else
    pass=$((pass + 1))
  fi
}

expect "valid example config" 0 "examples/retail: ok (6 journeys" \
  "$waymark" validate "$src/examples/retail"

cat > "$tmp/bad.yaml" <<'YAML'
journeys:
  - id: j
    trigger: { event: Product Added, where: 'event.price >> 3' }
    steps:
      - { id: w, wait: 2 days }
      - { id: s, send: { channel: email, template: missing } }
YAML
expect "condition error position" 2 "bad.yaml:3:59: unexpected '>'" "$waymark" validate "$tmp/bad.yaml"
expect "bad duration" 2 "bad.yaml:5:24: bad duration '2 days'" "$waymark" validate "$tmp/bad.yaml"
expect "unknown template" 2 "bad.yaml:6:52: unknown template 'missing'" \
  "$waymark" validate "$tmp/bad.yaml"
expect "error count" 2 "3 error(s)" "$waymark" validate "$tmp/bad.yaml"
expect "missing config" 2 "nope.yaml: no such file or directory" "$waymark" validate "$tmp/nope.yaml"

printf 'format: csv\nheader: true\nevent: {column: kind}\nuser_id: {colum: uid}\n' > "$tmp/m.yaml"
printf 'kind,uid,ts\nview,1,2020-01-01\n' > "$tmp/e.csv"
expect "mapping typo" 2 "m.yaml:4:" \
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$tmp/e.csv" --mapping "$tmp/m.yaml"

printf '{"type":"track","event":"Product Viewed","userId":"u1","timestamp":"2026-01-01T10:00:00Z"}\n{"type":"track","userId":"u1"}\nnot json\n' > "$tmp/e.jsonl"
expect "bad JSON lines are counted" 0 "1 read from 3 rows, 0 duplicates dropped, 2 bad rows" \
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$tmp/e.jsonl"
expect "bad JSON line named" 0 "e.jsonl:2:" \
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$tmp/e.jsonl"
expect "strict stops at the first bad row" 1 "e.jsonl:2:" \
  "$waymark" replay --quiet --strict --config "$src/examples/retail" --events "$tmp/e.jsonl"

printf 'kind,uid\nview,1\nview,2\n' > "$tmp/plain.csv"
expect "CSV without a mapping" 1 "for CSV files pass --mapping" \
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$tmp/plain.csv"
expect "missing events file" 1 "waymark: " \
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$tmp/nope.jsonl"
expect "--until before the data" 2 "is before the last event" \
  "$waymark" replay --quiet --config "$src/examples/retail" --events "$tmp/e.jsonl" \
  --until 2025-01-01T00:00:00Z

# The hand-written sign-up week: every send below was worked out from the journeys and policies
# (Ben's first cart reminder falls at 21:00 New York time and waits for 08:00; his email consent
# is off, so push is used; the second touch lands after the DST change at 08:00 EDT).
"$waymark" replay --quiet --require-contact --config "$src/examples/retail" \
  --events "$src/examples/events/signup-week.jsonl" --outbox "$tmp/sw.jsonl" > /dev/null
got=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    m = json.loads(l); print(m["time"], m["profile"], m["journey"], m["step"], m["channel"])' \
  "$tmp/sw.jsonl")
want="2026-03-02T09:00:00Z ana welcome hello email
2026-03-02T10:07:00Z ana cart_abandonment first_touch email
2026-03-03T09:07:00Z ana cart_abandonment second_touch email
2026-03-04T09:00:00Z ana welcome tips email
2026-03-05T09:00:00Z ana post_purchase cross_sell email
2026-03-07T13:00:00Z ben cart_abandonment first_touch push
2026-03-08T12:00:00Z ben cart_abandonment second_touch push
2026-03-09T18:20:00.001Z ana win_back offer email"
if [ "$got" == "$want" ]; then
  pass=$((pass + 1))
else
  echo "FAIL sign-up week outbox:"; diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
  failures=$((failures + 1))
fi

# Delivery events from outside: a first replay gives the messages' ids (they are deterministic),
# a second one adds an open and a click of u1's first email and two orders. u1's order is
# credited to the clicked step; u2 never clicked, so its order goes to its last send (view).
cat > "$tmp/attr.yaml" <<'YAML'
templates: [{ id: t, subject: "Your cart" }]
journeys:
  - id: cart
    trigger: { event: Cart Abandoned }
    goal: { event: Order Completed, within: 3d }
    steps:
      - { id: first, send: { channel: email, template: t } }
      - { id: pause, wait: 1d }
      - { id: second, send: { channel: email, template: t } }
YAML
printf '%s\n' \
  '{"type":"track","event":"Cart Abandoned","userId":"u1","timestamp":"2026-05-01T10:00:00Z"}' \
  '{"type":"track","event":"Cart Abandoned","userId":"u2","timestamp":"2026-05-01T10:05:00Z"}' \
  > "$tmp/attr1.jsonl"
"$waymark" replay --quiet --config "$tmp/attr.yaml" --events "$tmp/attr1.jsonl" \
  --outbox "$tmp/attr1.outbox" > /dev/null
python3 - "$tmp/attr1.outbox" "$tmp/attr1.jsonl" "$tmp/attr2.jsonl" <<'PY'
import json, sys
first = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["step"] == "first":
        first[m["profile"]] = m
events = [json.loads(l) for l in open(sys.argv[2])]
def about(m, name, at, **extra):
    props = {"message_id": m["id"], "journey": m["journey"], "step": m["step"],
             "channel": m["channel"], **extra}
    return {"type": "track", "event": name, "userId": m["profile"], "timestamp": at,
            "properties": props}
events += [
    about(first["u1"], "Message Opened", "2026-05-01T10:30:00Z"),
    about(first["u1"], "Message Clicked", "2026-05-01T10:31:00Z", url="https://shop/cart"),
    {"type": "track", "event": "Order Completed", "userId": "u1",
     "timestamp": "2026-05-01T12:00:00Z", "properties": {"revenue": 42}},
    {"type": "track", "event": "Order Completed", "userId": "u2",
     "timestamp": "2026-05-02T12:00:00Z", "properties": {"revenue": 8}},
]
with open(sys.argv[3], "w") as out:
    for e in events:
        out.write(json.dumps(e) + "\n")
PY
"$waymark" replay --quiet --config "$tmp/attr.yaml" --events "$tmp/attr2.jsonl" \
  --report "$tmp/attr2.json" --trace u1 > "$tmp/attr2.txt"
got=$(python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))["journeys"][0]
s = {st["id"]: st for st in j["steps"]}
print(j["goal"]["attributed"], j["goal"]["unattributed"], s["first"]["opened"],
      s["first"]["unique_clicked"], s["first"]["converted"], s["first"]["revenue"],
      s["second"]["converted"], s["second"]["revenue"])' "$tmp/attr2.json")
if [ "$got" == "2 0 1 1 1 42.0 1 8.0" ]; then
  pass=$((pass + 1))
else
  echo "FAIL attribution report: got '$got', want '2 0 1 1 1 42.0 1 8.0'"
  failures=$((failures + 1))
fi
expect "attribution trace" 0 "journey cart: conversion credited to step 'first' (last touch: clicked" \
  cat "$tmp/attr2.txt"
expect "attribution text report" 0 "opened 1 (1 unique); clicked 1 (1 unique); credited 1 conversion" \
  cat "$tmp/attr2.txt"

if [ -d "$data" ]; then
  expect "truncated REES46 row" 0 "2019-Oct.csv:17436:107: expected 9 fields, got 8" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/rees46-multicategory-2019-oct-head/2019-Oct.csv" --mapping "$src/mappings/rees46.yaml"
  expect "REES46 duplicates dropped" 0 "17,434 read from 17,435 rows, 5 duplicates dropped, 1 bad row" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/rees46-multicategory-2019-oct-head/2019-Oct.csv" --mapping "$src/mappings/rees46.yaml"
  expect "trace explains a profile" 0 "journey browse_abandonment v1: entered (instance" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/taobao-userbehavior-head/UserBehavior1.csv" --mapping "$src/mappings/taobao.yaml" \
    --trace 100
  expect "trace narrowed to one journey" 0 "journey referral: sent 'ask' on in_app" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/taobao-userbehavior-head/UserBehavior1.csv" --mapping "$src/mappings/taobao.yaml" \
    --trace 100 --trace-journey referral
  out=$("$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/taobao-userbehavior-head/UserBehavior1.csv" --mapping "$src/mappings/taobao.yaml" \
    --trace 100 --trace-journey referral)
  if [[ "$out" == *"journey browse_abandonment"* ]]; then
    echo "FAIL trace narrowed to one journey: other journeys' lines remain"; failures=$((failures + 1))
  else
    pass=$((pass + 1))
  fi
  expect "keyed instances' trace lines name their key" 0 \
    "journey cart_abandonment [4475881]: sent 'first_touch' on email" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/taobao-userbehavior-head/UserBehavior1.csv" --mapping "$src/mappings/taobao.yaml" \
    --trace 100762 --trace-journey cart_abandonment
  expect "trace narrowed to an unknown journey" 2 \
    "waymark: --trace-journey 'nosuch' is not a journey of the config (browse_abandonment," \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/taobao-userbehavior-head/UserBehavior1.csv" --mapping "$src/mappings/taobao.yaml" \
    --trace 100 --trace-journey nosuch
  expect "unsorted Tmall log replays sorted" 0 "9,999 read from 9,999 rows" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/tmall-ijcai15-user-log-head/user_log.csv" --mapping "$src/mappings/tmall.yaml"
  expect "stream mode reports late rows" 0 " late (dropped: older than the reorder window)" \
    "$waymark" replay --quiet --order stream --reorder-window 1d --config "$src/examples/retail" \
    --events "$data/tmall-ijcai15-user-log-head/user_log.csv" --mapping "$src/mappings/tmall.yaml"
  expect "CDNOW replays" 0 "69,659 read from 69,659 rows" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/cdnow-master/CDNOW_master.txt" --mapping "$src/mappings/cdnow.yaml"
  expect "Diginetica links anonymous sessions" 0 "anonymous profiles linked to a user id" \
    "$waymark" replay --quiet --config "$src/examples/retail" \
    --events "$data/diginetica-sample/sample_train-item-views.csv" --mapping "$src/mappings/diginetica.yaml"
fi

echo "cli_test: $pass passed, $failures failed"
[ "$failures" -eq 0 ]
