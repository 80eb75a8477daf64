#!/usr/bin/python3
"""Crash test for `waymark serve`: kill -9 under steady load, restart, and prove that every
acknowledged event is applied exactly once and that no send id appears twice.

    crash_test.py PATH/TO/waymark [--kills 20] [--seed 1]

Two client threads send batches of Segment track/identify events with fixed messageIds to
/v1/batch, each batch until it is answered 200 (a connection error or a 503 is retried with the
same body, as Segment's libraries do). A third thread kills the server with SIGKILL at random
moments and starts it again on the same data directory and port. When every batch has been
acknowledged and the kills are done, the server is left to settle, and then:

  - each profile's event_count (admin API) equals the number of distinct events sent for it:
    nothing acknowledged was lost, nothing retried was applied twice (delivery's own Message
    Sent reports are events too, but not the customer's, so they do not count);
  - no message id appears twice in the outbox file, and every send in the store's outbox is in
    the file (delivered exactly once to the file sink);
  - the server is then stopped with SIGTERM and exits 0.

Only the Python standard library is used (http.client is the HTTP client).
"""
import argparse
import base64
import collections
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRITE_KEY = "wk-crash"
ADMIN = "admin-crash"
USERS = 40
BATCH = 50

CONFIG = """
templates:
  - id: nudge
    subject: "About {{ event.product_id }}"
    text: "Hello {{ profile.id }}"
journeys:
  - id: viewed
    trigger: { event: Product Viewed }
    reentry: always
    steps:
      - { id: wait, wait: 300ms }
      - { id: nudge, send: { channel: email, template: nudge } }
  - id: ordered
    trigger: { event: Order Completed }
    reentry: always
    steps:
      - { id: thanks, send: { channel: email, template: nudge } }
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, tmp, port):
        self.binary, self.tmp, self.port = binary, tmp, port
        self.proc = None
        self.starts = 0
        self.lock = threading.Lock()
        self.config = os.path.join(tmp, "config.yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG)

    def start(self):
        port_file = os.path.join(self.tmp, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(os.path.join(self.tmp, "server.log"), "ab")
        env = dict(os.environ, WAYMARK_WRITE_KEY=WRITE_KEY, WAYMARK_ADMIN_TOKEN=ADMIN)
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config,
             "--data-dir", os.path.join(self.tmp, "data"),
             "--listen", f"127.0.0.1:{self.port}", "--port-file", port_file,
             "--shards", "2", "--outbox", os.path.join(self.tmp, "outbox.jsonl"),
             "--assume-reachable", "--log-level", "warn"],
            env=env, stdout=log, stderr=log)
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                sys.exit(f"crash_test: server exited with {self.proc.returncode} at start "
                         f"#{self.starts + 1}; see {self.tmp}/server.log")
            if time.time() > deadline:
                sys.exit("crash_test: server did not start within 30 s")
            time.sleep(0.02)
        self.starts += 1

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def post_batch(port, body):
    """One attempt; returns the HTTP status, or None when the connection failed."""
    auth = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/v1/batch", body,
                  {"Content-Type": "application/json", "Authorization": f"Basic {auth}"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except (OSError, http.client.HTTPException):
        return None


def admin_get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", f"/admin/v1/{path}", headers={"Authorization": f"Bearer {ADMIN}"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body) if body else None


def make_batches(client, count, rng):
    """Batches of events with fixed messageIds, and how many each user got."""
    batches, per_user = [], {}
    for b in range(count):
        events = []
        for i in range(BATCH):
            user = f"user-{rng.randrange(USERS)}"
            kind = rng.random()
            mid = f"c{client}-b{b}-e{i}"
            if kind < 0.1:
                ev = {"type": "identify", "userId": user, "traits": {"tier": rng.randrange(3)}}
            elif kind < 0.2:
                ev = {"type": "track", "userId": user, "event": "Order Completed",
                      "properties": {"revenue": rng.randrange(100)}}
            else:
                ev = {"type": "track", "userId": user, "event": "Product Viewed",
                      "properties": {"product_id": f"p-{rng.randrange(30)}"}}
            ev["messageId"] = mid
            events.append(ev)
            per_user[user] = per_user.get(user, 0) + 1
        batches.append(json.dumps({"batch": events}))
    return batches, per_user


def sender(port, batches, stats, stop_at, killing):
    for body in batches:
        if killing.is_set():
            time.sleep(0.03)  # steady load spread over the kills

        while True:
            status = post_batch(port, body)
            if status == 200:
                stats["acked"] += 1
                break
            stats["retries"] += 1
            if status is not None and status not in (503, 429):
                stats["bad"].append(status)
                break
            if time.time() > stop_at:
                stats["bad"].append("gave up")
                return
            time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--batches", type=int, default=300, help="per client")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    tmp = tempfile.mkdtemp(prefix="waymark-crash-")
    server = Server(os.path.abspath(args.binary), tmp, free_port())
    server.start()

    work = [make_batches(c, args.batches, rng) for c in range(2)]
    expected = {}
    for _, per_user in work:
        for u, n in per_user.items():
            expected[u] = expected.get(u, 0) + n
    total = sum(expected.values())

    stop_at = time.time() + 600
    killing = threading.Event()
    killing.set()
    stats = [{"acked": 0, "retries": 0, "bad": []} for _ in work]
    threads = [threading.Thread(target=sender, args=(server.port, b, s, stop_at, killing))
               for (b, _), s in zip(work, stats)]
    for t in threads:
        t.start()

    # Kill at random moments while the clients send; once enough kills happened under load the
    # clients go at full speed to finish.
    kills = 0
    while any(t.is_alive() for t in threads) and kills < args.kills:
        time.sleep(rng.uniform(0.05, 0.5))
        server.kill()
        kills += 1
        server.start()
    killing.clear()
    for t in threads:
        t.join()
    if kills < args.kills:
        sys.exit(f"crash_test: the load ended after {kills} kills, fewer than {args.kills}; "
                 "raise --batches")

    bad = [b for s in stats for b in s["bad"]]
    if bad:
        sys.exit(f"crash_test: requests failed for good: {bad[:5]}")
    acked = sum(s["acked"] for s in stats)
    retries = sum(s["retries"] for s in stats)

    # Settle: every event applied (by each profile's count: the engine's own total also holds
    # the Message Sent reports delivery feeds back), timers of 300 ms fired, deliveries written.
    def counts():
        got = {}
        for user in expected:
            status, p = admin_get(server.port, f"profiles/{user}")
            got[user] = p["event_count"] if status == 200 else -1
        return got
    deadline = time.time() + 60
    while True:
        got = counts()
        over = [u for u in expected if got[u] > expected[u]]
        if over:
            sys.exit(f"crash_test: {over[0]} has {got[over[0]]} events applied, "
                     f"{expected[over[0]]} were sent")
        if got == expected:
            break
        if time.time() > deadline:
            short = [u for u in expected if got[u] != expected[u]]
            sys.exit(f"crash_test: after 60 s {short[0]} has {got[short[0]]} of "
                     f"{expected[short[0]]} events")
        time.sleep(0.2)
    time.sleep(1.0)
    for _ in range(100):
        status, pending = admin_get(server.port, "outbox?status=pending&limit=1000")
        if status == 200 and not pending:
            break
        time.sleep(0.1)
    status, st = admin_get(server.port, "stats")
    reports = st["totals"]["events"] - total  # applied events that were delivery's reports

    failures = []
    with open(os.path.join(tmp, "outbox.jsonl")) as f:
        ids = [json.loads(line)["id"] for line in f]
    dupes = sorted(i for i, n in collections.Counter(ids).items() if n > 1)
    if dupes:
        failures.append(f"{len(dupes)} message ids twice in the outbox file, e.g. {dupes[:3]}")
    stored = set()
    for state in ("delivered", "pending", "failed"):
        status, entries = admin_get(server.port, f"outbox?status={state}&limit=1000")
        stored.update(e["id"] for e in entries)
    missing = stored - set(ids)
    if missing:
        failures.append(f"{len(missing)} stored sends not in the outbox file")
    if not ids:
        failures.append("no sends at all: the journeys did not run")
    # Delivery reports each send once (Message Sent, under an id derived from the send's), even
    # when a crash made it deliver an entry again.
    for _ in range(50):
        status, st = admin_get(server.port, "stats")
        reports = st["totals"]["events"] - total
        if reports >= len(set(ids)):
            break
        time.sleep(0.2)
    if reports != len(set(ids)):
        failures.append(f"{reports} delivery reports applied for {len(set(ids))} sends")

    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=60)
    if code != 0:
        failures.append(f"exit code {code} after SIGTERM")

    print(f"crash_test: {kills} kills under load, {server.starts} starts, {acked} batches acknowledged "
          f"({retries} retries), {total} events, {len(ids)} sends, {len(stored)} stored, "
          f"{reports} delivery reports")
    if failures:
        print("crash_test: FAILED\n  " + "\n  ".join(failures[:20]), file=sys.stderr)
        print(f"crash_test: state kept in {tmp}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
