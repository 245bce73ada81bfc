#!/usr/bin/env python3
"""A soak: mixed traffic against a running affdesk for a while (see docs/reliability.md).

    bench/soak.sh                     # 10 minutes against PostgreSQL
    SOAK_SECONDS=60 bench/soak.sh     # shorter

Eight clients on loopback: managers paging and filtering the list, searching,
reading threads, replying with files, bulk-closing and reopening; affiliates
reading and replying; an API client listing and commenting. Every 30 s it records
the server's memory (RSS) and open files; at the end the list's latencies, the
errors (any status >= 500, and any answer other than the expected one), and
whether memory and open files stayed flat. Loopback only; the standard library only.
"""

import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from drills import BASE, PNG, Browser, sql  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
# Seconds each client waits between requests: busy people, not a flood that
# leaves the two cores no room (SOAK_PACE=0 floods).
PACE = float(os.environ.get("SOAK_PACE", "0.02"))
PID = int(os.environ["SOAK_PID"])
stop_at = time.time() + SECONDS
lock = threading.Lock()
latencies = {"list": [], "filtered": [], "search": [], "thread": [], "reply": [], "bulk": [], "api": []}
errors = []


def timed(kind, fn, ok=(200, 303)):
    t0 = time.time()
    try:
        status = fn()
    except Exception as e:  # a dropped connection is an error too
        status = f"{type(e).__name__}"
    took = time.time() - t0
    with lock:
        latencies[kind].append(took)
        if status not in ok:
            errors.append((kind, status))


def manager(email):
    b = Browser("admin", email)
    # The tickets this person may see: an admin all, a manager their affiliates'.
    scope = "" if email.startswith("admin") else f"WHERE manager_id = (SELECT id FROM users WHERE email = '{email}')"
    tickets = [int(x) for x in sql(f"SELECT id FROM tickets {scope} ORDER BY random() LIMIT 200").split()]
    while time.time() < stop_at:
        t = random.choice(tickets)
        r = random.random()
        if r < 0.35:
            timed("list", lambda: b.get("/admin/tickets")[0])
        elif r < 0.55:
            timed("filtered", lambda: b.get("/admin/tickets?status=open&type=general&type=technical&page=2")[0])
        elif r < 0.62:
            timed("search", lambda: b.get("/admin/tickets?q=postback")[0])
        elif r < 0.85:
            timed("thread", lambda: b.get(f"/admin/tickets/{t}")[0])
        elif r < 0.95:
            b.get(f"/admin/tickets/{t}")
            timed("reply", lambda: b.post_files(f"/admin/tickets/{t}/messages", {"body": "Soak reply"},
                                                [("s.png", PNG)])[0])
        else:
            b.get("/admin/tickets")
            timed("bulk", lambda: b.post("/admin/tickets/bulk", {"action": "close", "ids": str(t)})[0])
            timed("bulk", lambda: b.post(f"/admin/tickets/{t}/reopen", {})[0])
        time.sleep(PACE)


def affiliate(n):
    b = Browser("affiliate", f"affiliate{n}@affdesk.test")
    own = [int(x) for x in sql(f"SELECT id FROM tickets WHERE affiliate_id = {n}").split()]
    while time.time() < stop_at:
        t = random.choice(own)
        if random.random() < 0.7:
            timed("thread", lambda: b.get(f"/affiliate/tickets/{t}")[0])
        else:
            b.get(f"/affiliate/tickets/{t}")
            timed("reply", lambda: b.post_files(f"/affiliate/tickets/{t}/messages", {"body": "Soak"}, [])[0])
        time.sleep(PACE)


def api(key):
    tickets = [int(x) for x in sql("SELECT id FROM tickets ORDER BY random() LIMIT 100").split()]

    def call(path, data=None):
        req = urllib.request.Request(BASE + path, data=data, headers={"API-Key": key})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                json.loads(r.read())
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    while time.time() < stop_at:
        if random.random() < 0.8:
            timed("api", lambda: call("/3.0/admin/tickets?limit=100&status=open"))
        else:
            t = random.choice(tickets)
            timed("api", lambda: call(f"/3.0/admin/ticket/{t}/comment", b"text=Soak+API"))
        time.sleep(PACE)  # an integration's pace, not a flood


def sample():
    fields = {}
    for line in open(f"/proc/{PID}/status"):
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, len(os.listdir(f"/proc/{PID}/fd"))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else 0


if __name__ == "__main__":
    key = os.environ["SOAK_KEY"]
    workers = [threading.Thread(target=manager, args=(e,)) for e in
               ("admin@affdesk.test", "manager1@affdesk.test", "manager2@affdesk.test")]
    workers += [threading.Thread(target=affiliate, args=(n,)) for n in (1, 2, 3, 4)]
    workers += [threading.Thread(target=api, args=(key,))]
    for w in workers:
        w.start()
    samples = []
    while time.time() < stop_at:
        samples.append((int(SECONDS - (stop_at - time.time())), *sample()))
        print(f"  t={samples[-1][0]:4d}s  RSS {samples[-1][1]:4d} MB  open files {samples[-1][2]}", flush=True)
        time.sleep(min(30, max(0, stop_at - time.time())))
    for w in workers:
        w.join()
    samples.append((SECONDS, *sample()))
    total = sum(len(v) for v in latencies.values())
    print(f"\n{total} requests in {SECONDS} s ({total / SECONDS:.0f}/s), {len(errors)} errors")
    for kind, values in latencies.items():
        print(f"  {kind:9s} {len(values):7d}  p50 {pct(values, 0.5):7.1f} ms  p99 {pct(values, 0.99):7.1f} ms")
    if errors:
        print("  errors:", errors[:20])
    # Flat: the second half grows by at most 10 MB of RSS and 10 open files.
    half = [s for s in samples if s[0] >= SECONDS // 2]
    rss_growth = half[-1][1] - half[0][1]
    fd_growth = half[-1][2] - half[0][2]
    print(f"  second half: RSS {half[0][1]} -> {half[-1][1]} MB, open files {half[0][2]} -> {half[-1][2]}")
    ok = not errors and rss_growth <= 10 and fd_growth <= 10
    print("soak held" if ok else "soak FAILED")
    sys.exit(0 if ok else 1)
