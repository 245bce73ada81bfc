#!/usr/bin/env python3
"""Fault drills against a release affdesk on PostgreSQL (see docs/reliability.md).

    bench/drills.sh                 # builds, seeds a drill database, runs every drill
    bench/drills.sh restart kill    # only some of them

Each drill prints what it did and what it measured, and exits non-zero when a
promise does not hold. Loopback only; the standard library only.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BIN = os.environ.get("AFFDESK_BIN", "target/release/affdesk")
DB = os.environ.get("DRILL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/affdesk_drill")
PSQL_DB = os.environ.get("DRILL_PSQL", "postgres://postgres@127.0.0.1:5432/affdesk_drill")
DATA = os.path.abspath(os.environ.get("DRILL_DATA", "bench/data-drill"))
PORT = int(os.environ.get("DRILL_PORT", "18182"))
BASE = f"http://127.0.0.1:{PORT}"
PG_CLUSTER = os.environ.get("DRILL_PG_CLUSTER", "15 main")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000a49444154789c6300010000050001 0d0a2db40000000049454e44ae426082".replace(" ", "")
)
failures = []


def say(*args):
    print(*args, flush=True)


def check(ok, what):
    say(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


def sql(query):
    out = subprocess.run(["psql", PSQL_DB, "-Atqc", query], capture_output=True, text=True, check=True)
    return out.stdout.strip()


class Server:
    def __init__(self, *extra):
        self.extra = list(extra)
        self.proc = None

    def start(self):
        env = dict(os.environ, RUST_LOG="warn", DATABASE_URL=DB)
        self.proc = subprocess.Popen(
            [BIN, "--data-dir", DATA, "serve", "--bind", f"127.0.0.1:{PORT}",
             "--secret", "drill-secret-drill-secret-drill-secret", "--login-attempts", "100000"] + self.extra,
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(DATA, "server.log"), "a"))
        for _ in range(100):
            try:
                urllib.request.urlopen(BASE + "/healthz", timeout=1)
                return self
            except Exception:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A logged-in person: cookies, the CSRF token of the last page read."""

    def __init__(self, panel, email, base=None):
        self.base = base or BASE
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.panel = panel
        self.token = ""
        self.get(f"/{panel}/login")
        status, _ = self.post(f"/{panel}/login", {"email": email, "password": "demo-password"})
        assert status == 303, f"login of {email}: {status}"

    def request(self, req, timeout=30):
        try:
            with self.opener.open(req, timeout=timeout) as r:
                body = r.read().decode("utf-8", "replace")
                status = r.status
        except urllib.error.HTTPError as e:
            body, status = e.read().decode("utf-8", "replace"), e.code
        m = re.search(r'name="csrf_token" value="([^"]+)"', body)
        if m:
            self.token = m.group(1)
        return status, body

    def get(self, path, timeout=30):
        return self.request(urllib.request.Request(self.base + path), timeout)

    def post(self, path, fields, timeout=30):
        data = urllib.parse.urlencode(list(fields.items()) + [("csrf_token", self.token)]).encode()
        return self.request(urllib.request.Request(self.base + path, data=data), timeout)

    def post_files(self, path, fields, files, timeout=60):
        boundary = uuid.uuid4().hex
        parts = [("csrf_token", None, self.token.encode())] + [(k, None, v.encode()) for k, v in fields.items()]
        parts += [("files", name, content) for name, content in files]
        body = b""
        for name, file_name, value in parts:
            disp = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
            body += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + value + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        req = urllib.request.Request(self.base + path, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self.request(req, timeout)


def counts_consistent():
    bad = sql(
        "SELECT COUNT(*) FROM (SELECT COALESCE(manager_id, 0) AS m, status, type, COUNT(*) AS c FROM tickets "
        "GROUP BY 1, 2, 3) r FULL OUTER JOIN (SELECT manager_id AS m, status, type, n FROM ticket_counts WHERE n <> 0) k "
        "ON k.m = r.m AND k.status = r.status AND k.type = r.type WHERE k.n IS NULL OR r.c IS NULL OR k.n <> r.c")
    return bad == "0"


def store_consistent():
    """Every attachment row has its file; every stored file has its row."""
    root = os.path.join(DATA, "attachments")
    files = set()
    for d in os.listdir(root):
        if d != "tmp" and os.path.isdir(os.path.join(root, d)):
            files.update(os.listdir(os.path.join(root, d)))
    keys = set(filter(None, sql("SELECT storage_key FROM attachments").split("\n")))
    return keys - files, files - keys


def drill_restart():
    say("\n== PostgreSQL restarted while replies and bulk actions are sent")
    server = Server().start()
    ticket = int(sql("SELECT MIN(id) FROM tickets WHERE affiliate_id = 1"))
    affiliate = Browser("affiliate", "affiliate1@affdesk.test")
    manager = Browser("admin", "admin@affdesk.test")
    affiliate.get(f"/affiliate/tickets/{ticket}")
    manager.get("/admin/tickets")
    acknowledged, failed, answers = [], [], []
    stop = time.time() + 20

    def replies():
        while time.time() < stop:
            token = uuid.uuid4().hex
            t0 = time.time()
            try:
                affiliate.get(f"/affiliate/tickets/{ticket}", timeout=10)
                status, _ = affiliate.post_files(f"/affiliate/tickets/{ticket}/messages",
                                                 {"body": f"drill {token}", "submission": token}, [], timeout=10)
            except Exception:
                status = 0
            answers.append((status, time.time() - t0, time.time()))
            (acknowledged if status == 303 else failed).append(token)
            time.sleep(0.05)

    bulk_ticket = sql("SELECT MIN(id) FROM tickets WHERE affiliate_id = 2")

    def bulk():
        while time.time() < stop:
            try:
                manager.get("/admin/tickets?status=open&per_page=10", timeout=10)
                manager.post("/admin/tickets/bulk", {"action": "close", "ids": bulk_ticket}, timeout=10)
                manager.post(f"/admin/tickets/{bulk_ticket}/reopen", {}, timeout=10)
            except Exception:
                pass
            time.sleep(0.1)

    workers = [threading.Thread(target=replies), threading.Thread(target=bulk)]
    for w in workers:
        w.start()
    time.sleep(5)
    restarted_at = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect"] + PG_CLUSTER.split() + ["restart"], check=True)
    back_at = time.time()
    for w in workers:
        w.join()
    during = [a for a in answers if restarted_at <= a[2] <= back_at + 1]
    slow = [a for a in during if a[0] != 303 and a[1] > 3.5]
    first_ok = min((a[2] for a in answers if a[0] == 303 and a[2] > back_at), default=None)
    say(f"  restart took {back_at - restarted_at:.1f} s; {len(answers)} replies sent, {len(acknowledged)} acknowledged")
    say(f"  answers during the outage: {sorted(set(a[0] for a in during))}")
    check(not [a for a in answers if a[0] == 500], "no 500 (an outage is a 503)")
    check(not slow, "refusals during the outage came within 3.5 s")
    check(first_ok is not None and first_ok - back_at < 5,
          f"recovered by itself ({(first_ok or 0) - back_at:.1f} s after PostgreSQL was back)")
    stored = {t: int(sql(f"SELECT COUNT(*) FROM messages WHERE submission = '{t}'")) for t in acknowledged}
    check(all(n == 1 for n in stored.values()), f"every acknowledged reply stored exactly once ({len(stored)})")
    # The person sends the failed forms again: each lands once.
    for token in failed:
        affiliate.get(f"/affiliate/tickets/{ticket}")
        affiliate.post_files(f"/affiliate/tickets/{ticket}/messages", {"body": f"drill {token}", "submission": token}, [])
        affiliate.post_files(f"/affiliate/tickets/{ticket}/messages", {"body": f"drill {token}", "submission": token}, [])
    again = [int(sql(f"SELECT COUNT(*) FROM messages WHERE submission = '{t}'")) for t in failed]
    check(all(n == 1 for n in again), f"forms sent again twice after a failure stored once ({len(again)})")
    check(counts_consistent(), "ticket totals equal the tickets")
    server.stop()


def drill_pool():
    say("\n== The pool exhausted by a long lock")
    server = Server().start()
    manager = Browser("admin", "admin@affdesk.test")
    locker = subprocess.Popen(["psql", PSQL_DB, "-qc",
                               "BEGIN; LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT;"],
                              stdout=subprocess.DEVNULL)
    time.sleep(1)
    results = []

    def page():
        t0 = time.time()
        try:
            status, _ = manager.get("/admin/tickets?status=open", timeout=30)
        except Exception:
            status = 0
        results.append((status, time.time() - t0))

    threads = [threading.Thread(target=page) for _ in range(40)]
    for t in threads:
        t.start()
    time.sleep(4.5)
    t0 = time.time()
    try:
        health = urllib.request.urlopen(BASE + "/healthz", timeout=10).status
    except urllib.error.HTTPError as e:
        health = e.code
    health_time = time.time() - t0
    for t in threads:
        t.join()
    locker.wait()
    refused = [r for r in results if r[0] == 503]
    say(f"  40 list pages under the lock: {len(refused)} got 503, the slowest refusal after {max((r[1] for r in refused), default=0):.1f} s")
    check(refused and max(r[1] for r in refused) < 4.5, "pages that found no connection got 503 within the pool timeout")
    check(health in (200, 503) and health_time < 4, f"/healthz answered ({health}) in {health_time:.1f} s")
    status, _ = manager.get("/admin/tickets?status=open")
    check(status == 200, "pages answer again once the lock is gone")
    server.stop()


def drill_full():
    say("\n== The attachment folder full")
    root = os.path.join(DATA, "attachments")
    os.makedirs(root, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", root], check=True)
    try:
        server = Server().start()
        ticket = int(sql("SELECT MIN(id) FROM tickets WHERE affiliate_id = 1"))
        affiliate = Browser("affiliate", "affiliate1@affdesk.test")
        before = sql("SELECT COUNT(*) FROM messages") + "/" + sql("SELECT COUNT(*) FROM attachments")
        affiliate.get(f"/affiliate/tickets/{ticket}")
        big = PNG + os.urandom(700 * 1024)
        status, body = affiliate.post_files(f"/affiliate/tickets/{ticket}/messages", {"body": "two big files"},
                                            [("a.png", big), ("b.png", big)])
        after = sql("SELECT COUNT(*) FROM messages") + "/" + sql("SELECT COUNT(*) FROM attachments")
        leftovers = sum(len(files) for _, _, files in os.walk(root))
        say(f"  answer {status}")
        check(status == 507 and "no room left" in body, "a clear answer (507, in words)")
        check(before == after, "no message and no attachment row")
        check(leftovers == 0, f"no partial file ({leftovers} files in the folder)")
        server.stop()
    finally:
        subprocess.run(["umount", root], check=True)


def drill_kill():
    say("\n== The process killed during a bulk action and during an upload")
    server = Server().start()
    manager = Browser("admin", "admin@affdesk.test")
    manager.get("/admin/tickets")
    open_before = int(sql("SELECT COUNT(*) FROM tickets WHERE status = 'open'"))
    body = urllib.parse.urlencode({"action": "close", "all_matching": "1", "status": "open", "csrf_token": manager.token})
    req = urllib.request.Request(BASE + "/admin/tickets/bulk", data=body.encode())
    def send():
        try:
            manager.request(req, timeout=30)
        except Exception:
            pass  # the server is killed under it

    threading.Thread(target=send, daemon=True).start()
    time.sleep(0.3)
    server.kill()
    server = Server().start()
    open_after = int(sql("SELECT COUNT(*) FROM tickets WHERE status = 'open'"))
    say(f"  open tickets before {open_before}, after the kill {open_after}")
    check(open_after in (open_before, 0), "the bulk close happened wholly or not at all")
    check(counts_consistent(), "ticket totals equal the tickets")
    # An upload cut by SIGKILL: 5 files of 5 MB sent slowly.
    ticket = int(sql("SELECT MIN(id) FROM tickets WHERE affiliate_id = 1"))
    affiliate = Browser("affiliate", "affiliate1@affdesk.test")
    affiliate.get(f"/affiliate/tickets/{ticket}")
    boundary = "drillkill"
    payload = f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{affiliate.token}\r\n".encode()
    for i in range(5):
        payload += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"f{i}.png\"\r\n\r\n").encode()
        payload += PNG + os.urandom(5 * 1024 * 1024 - len(PNG) - 16) + b"\r\n"
    payload += f"--{boundary}--\r\n".encode()
    cookie = "; ".join(f"{c.name}={c.value}" for c in affiliate.jar)
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall((f"POST /affiliate/tickets/{ticket}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(payload)}\r\n\r\n").encode())
    s.sendall(payload[: len(payload) // 2])
    time.sleep(0.5)
    server.kill()
    s.close()
    temp = os.listdir(os.path.join(DATA, "attachments", "tmp"))
    say(f"  after the kill: {len(temp)} temporary file(s) left in the folder")
    missing, orphans = store_consistent()
    check(not missing, "every attachment row has its file")
    subprocess.run([BIN, "--data-dir", DATA, "sweep", "--older-than", "0"], env=dict(os.environ, DATABASE_URL=DB),
                   check=True, stdout=subprocess.DEVNULL)
    missing, orphans = store_consistent()
    temp = os.listdir(os.path.join(DATA, "attachments", "tmp"))
    check(not orphans and not temp, "after the sweep no file is left without its row")
    server = Server().start()
    check(urllib.request.urlopen(BASE + "/healthz").status == 200, "the restarted server serves")
    server.stop()


def drill_slow():
    say("\n== A client sending one byte a second")
    server = Server("--body-timeout", "5").start()
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"POST /admin/templates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
    s.settimeout(1)
    t0, answer = time.time(), b""
    while time.time() - t0 < 30:
        try:
            s.sendall(b"a")
            answer += s.recv(4096)
            if answer:
                break
        except socket.timeout:
            continue
        except OSError:
            break
    took = time.time() - t0
    say(f"  answered {answer[:12]!r} after {took:.1f} s")
    check(answer.startswith(b"HTTP/1.1 408") and took < 8, "cut off at the deadline with 408")
    server.stop()


DRILLS = {"restart": drill_restart, "pool": drill_pool, "full": drill_full, "kill": drill_kill, "slow": drill_slow}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(DRILLS)
    for name in chosen:
        DRILLS[name]()
    say(f"\n{len(failures)} promise(s) broken" if failures else "\nevery drill held")
    sys.exit(1 if failures else 0)
