#!/usr/bin/env python3
"""Two affdesk instances on one PostgreSQL behind HAProxy, attachments in moto's S3
(see docs/deploy.md). Run by bench/cluster.sh, which starts what this needs.

Each step prints what it did and what it measured; the script exits non-zero when
a promise does not hold. Loopback only; the standard library only.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drills  # noqa: E402  (the drills' Browser, PNG, sql and check)
from drills import PNG, Browser, check, say, sql  # noqa: E402

BIN = os.environ.get("AFFDESK_BIN", "target/release/affdesk")
DB = os.environ["CLUSTER_DATABASE_URL"]
STORAGE = os.environ["CLUSTER_STORAGE"]
DATA = os.path.abspath(os.environ.get("CLUSTER_DATA", "bench/data-cluster"))
BALANCER = "http://127.0.0.1:18180"
PORTS = {"A": 18181, "B": 18182}
SECRET = "cluster-secret-cluster-secret-cluster-secret"


class Instance:
    def __init__(self, name):
        self.name, self.port = name, PORTS[name]
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        data = os.path.join(DATA, self.name)
        os.makedirs(data, exist_ok=True)
        env = dict(os.environ, RUST_LOG="warn", DATABASE_URL=DB, AFFDESK_STORAGE=STORAGE)
        self.proc = subprocess.Popen(
            [BIN, "--data-dir", data, "serve", "--bind", f"127.0.0.1:{self.port}", "--secret", SECRET,
             "--login-attempts", "100000", "--drain", "1", "--trusted-proxies", "127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(DATA, f"{self.name}.log"), "a"))
        return self

    def wait_ready(self, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(self.base + "/readyz", timeout=1).status == 200:
                    return True
            except Exception:
                pass
            time.sleep(0.1)
        return False

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def served_by(path):
    """GETs through the balancer; which instance answered (HAProxy's X-Served-By)."""
    with urllib.request.urlopen(BALANCER + path, timeout=10) as r:
        return r.headers.get("X-Served-By"), r.status


def step_start_together(a, b):
    say("\n== both instances started at the same moment on an empty database")
    a.start()
    b.start()
    ready = a.wait_ready() and b.wait_ready()
    check(ready, "both serve")
    migrations = len(os.listdir("migrations/postgres"))
    applied = int(sql("SELECT COUNT(*) FROM __diesel_schema_migrations"))
    say(f"  {applied} migrations recorded, {migrations} shipped")
    check(applied == migrations, "each migration applied once")
    logs = "".join(open(os.path.join(DATA, f"{n}.log")).read() for n in "AB")
    check("migration failed" not in logs, "no migration error in either log")


def step_login(a, b):
    say("\n== a login through the balancer keeps working whichever instance answers")
    # Both instances in the balancer first (it checks /readyz every 500 ms).
    deadline, seen = time.time() + 10, set()
    while time.time() < deadline and seen != {"A", "B"}:
        seen.add(served_by("/readyz")[0])
    manager = Browser("admin", "admin@affdesk.test", base=BALANCER)
    seen, codes = set(), []
    for _ in range(10):
        req = urllib.request.Request(BALANCER + "/admin/tickets")
        with manager.opener.open(req, timeout=10) as r:
            seen.add(r.headers.get("X-Served-By"))
            codes.append(r.status)
    say(f"  10 pages, answered by {sorted(seen)}, statuses {sorted(set(codes))}")
    check(seen == {"A", "B"} and codes == [200] * 10, "logged in on both instances")
    return manager


def step_files(a, b):
    say("\n== a file uploaded through A downloads through B")
    ticket = sql("SELECT MIN(id) FROM tickets WHERE affiliate_id = 1 AND status = 'open'")
    on_a = Browser("admin", "admin@affdesk.test", base=a.base)
    on_a.get(f"/admin/tickets/{ticket}")
    status, _ = on_a.post_files(f"/admin/tickets/{ticket}/messages", {"body": "the report"}, [("report.png", PNG)])
    attachment = sql("SELECT MAX(id) FROM attachments")
    on_b = Browser("admin", "admin@affdesk.test", base=b.base)
    with on_b.opener.open(b.base + f"/admin/attachments/{attachment}", timeout=10) as r:
        got = r.read()
    local = sum(len(files) for _, _, files in os.walk(DATA) if "attachments" in _)
    say(f"  uploaded ({status}) through A, {len(got)} bytes back through B; {local} files on the instances' disks")
    check(status == 303 and got == PNG, "the same bytes through the other instance")
    return ticket


def step_rate_limit():
    say("\n== 700 API requests in a minute with one key, spread over both instances")
    key = subprocess.run([BIN, "apikey", "--email", "manager1@affdesk.test"], env=dict(os.environ, DATABASE_URL=DB),
                         capture_output=True, text=True, check=True).stdout.strip().split()[-1]
    codes, by = {}, {}
    lock = threading.Lock()

    def worker(n):
        for _ in range(n):
            req = urllib.request.Request(BALANCER + "/3.0/admin/tickets?limit=1", headers={"API-Key": key})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    code, server = r.status, r.headers.get("X-Served-By")
            except urllib.error.HTTPError as e:
                code, server = e.code, e.headers.get("X-Served-By")
            with lock:
                codes[code] = codes.get(code, 0) + 1
                by[server] = by.get(server, 0) + 1

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(100,)) for _ in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    say(f"  {sum(codes.values())} requests in {time.time() - t0:.1f} s: {dict(sorted(codes.items()))}, by instance {by}")
    check(codes.get(200) == 600 and codes.get(429) == 100, "600 succeed, 100 get 429")


def step_live(a, b, ticket):
    say("\n== a reply on A appears live on a thread open through B")
    on_b = Browser("admin", "admin@affdesk.test", base=b.base)
    stream = on_b.opener.open(b.base + f"/admin/events?ticket={ticket}", timeout=10)
    stream.readline()
    heard = []

    def listen():
        for line in stream:
            heard.append((time.time(), line.decode()))
            if line.startswith(b"event: thread"):
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.3)
    affiliate = Browser("affiliate", "affiliate1@affdesk.test", base=a.base)
    affiliate.get(f"/affiliate/tickets/{ticket}")
    sent_at = time.time()
    affiliate.post_files(f"/affiliate/tickets/{ticket}/messages", {"body": "live across instances"}, [])
    listener.join(5)
    got = [t for t, line in heard if line.startswith("event: thread")]
    if got:
        say(f"  B's browser heard it {1000 * (got[0] - sent_at):.0f} ms after A took it")
    check(bool(got), "B heard A's reply")


def step_kill(a, b):
    say("\n== instance A killed with SIGKILL during mixed traffic")
    ticket = sql("SELECT MIN(id) FROM tickets WHERE affiliate_id = 1 AND status = 'open'")
    stop = time.time() + 12
    results, acknowledged = [], []
    lock = threading.Lock()

    def reader():
        while time.time() < stop:
            t = time.time()
            try:
                server, code = served_by("/healthz")
            except Exception as e:
                server, code = None, type(e).__name__
            with lock:
                results.append((t, "read", code, server))
            time.sleep(0.02)

    def writer():
        affiliate = Browser("affiliate", "affiliate1@affdesk.test", base=BALANCER)
        while time.time() < stop:
            token = uuid.uuid4().hex
            t = time.time()
            try:
                affiliate.get(f"/affiliate/tickets/{ticket}", timeout=10)
                code, _ = affiliate.post_files(f"/affiliate/tickets/{ticket}/messages",
                                               {"body": f"cluster {token}", "submission": token}, [], timeout=10)
            except Exception as e:
                code = type(e).__name__
            with lock:
                results.append((t, "write", code, None))
                if code == 303:
                    acknowledged.append(token)
            time.sleep(0.05)

    workers = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer) for _ in range(2)]
    for w in workers:
        w.start()
    time.sleep(4)
    killed_at = time.time()
    a.kill()
    for w in workers:
        w.join()
    before = [r for r in results if r[0] < killed_at]
    after = [r for r in results if r[0] >= killed_at]
    in_flight = [r for r in before if r[2] not in (200, 303)]
    errors = [r for r in after if r[2] not in (200, 303)]
    say(f"  {len(before)} requests started before the kill ({len(in_flight)} failed: in flight on A), "
        f"{len(after)} after it ({len(errors)} failed)")
    served_after = {r[3] for r in after if r[0] > killed_at + 2 and r[1] == "read"}
    check(served_after == {"B"}, f"B alone serves after the kill (answered by {served_after})")
    for r in errors:
        say(f"  failed after the kill: {r[1]} at +{r[0] - killed_at:.2f} s: {r[2]}")
    check(not errors, "the only errors are requests that were in flight on A")
    stored = set(filter(None, sql(
        f"SELECT substr(body, 9) FROM messages WHERE ticket_id = {ticket} AND body LIKE 'cluster %'").split("\n")))
    lost = [t for t in acknowledged if t not in stored]
    say(f"  {len(acknowledged)} replies acknowledged, {len(lost)} of them missing")
    check(not lost, "nothing acknowledged is lost")
    say("  restarting A")
    a.start()
    check(a.wait_ready(), "A restarts")
    deadline = time.time() + 15
    seen = set()
    while time.time() < deadline and seen != {"A", "B"}:
        seen.add(served_by("/healthz")[0])
        time.sleep(0.1)
    check(seen == {"A", "B"}, "A rejoins the balancer")


def main():
    a, b = Instance("A"), Instance("B")
    try:
        step_start_together(a, b)
        subprocess.run([BIN, "demo", "--tickets", "2000"], env=dict(os.environ, DATABASE_URL=DB, AFFDESK_STORAGE=STORAGE),
                       check=True, stdout=subprocess.DEVNULL)
        say("\n(seeded 2,000 demo tickets)")
        step_login(a, b)
        ticket = step_files(a, b)
        step_rate_limit()
        step_live(a, b, ticket)
        step_kill(a, b)
    finally:
        a.stop()
        b.stop()
    failures = drills.failures
    say(f"\n{len(failures)} promise(s) broken" if failures else "\nevery promise held")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
