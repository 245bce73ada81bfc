"""Live event streams drill: one logged-in cookie opens many event streams at once
(idle, as a forgotten tab or a hostile script would) while /healthz and the ticket
list are asked for. Prints how the server answered the streams and how long the
other requests took.

    python3 bench/streams.py BASE COOKIE [STREAMS]

BASE is http://127.0.0.1:PORT, COOKIE the `affdesk_session=...` pair of a logged-in
admin. Raise the open-file limit first (`ulimit -n 65536`): each stream is a socket.
"""

import asyncio
import sys
import time
import urllib.request


async def open_stream(host, port, path, cookie, answers):
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as e:
        answers["connect failed"] = answers.get("connect failed", 0) + 1
        return None
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode())
    try:
        line = await asyncio.wait_for(reader.readline(), 10)
        status = line.split(b" ")[1].decode() if line else "closed"
    except (asyncio.TimeoutError, OSError, IndexError):
        status = "no answer"
    answers[status] = answers.get(status, 0) + 1
    if status != "200":
        writer.close()
        return None
    return writer


def timed(url, cookie=None):
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            status = resp.status
    except Exception as e:  # a timeout or a refusal is the measurement
        status = getattr(e, "code", type(e).__name__)
    return status, (time.monotonic() - started) * 1000


async def main():
    base, cookie = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    host, port = base.split("//")[1].split(":")
    port = int(port)
    answers = {}
    started = time.monotonic()
    # The streams the server keeps stay open; those it ended (a session keeps its
    # newest few) are let go, as a browser would, so the client's own file limit
    # is not what gives out.
    kept = []
    loop = asyncio.get_running_loop()
    health = []

    async def probe():
        while not done.is_set():
            health.append(await loop.run_in_executor(None, timed, base + "/healthz"))
            await asyncio.sleep(0.2)

    done = asyncio.Event()
    prober = asyncio.create_task(probe())
    for i in range(0, n, 500):
        batch = [open_stream(host, port, "/admin/events?since=0", cookie, answers) for _ in range(min(500, n - i))]
        kept += [w for w in await asyncio.gather(*batch) if w is not None]
        while len(kept) > 100:
            kept.pop(0).close()
    opened = time.monotonic() - started
    done.set()
    await prober
    writers = kept
    lists = [await loop.run_in_executor(None, timed, base + "/admin/tickets", cookie) for _ in range(10)]
    worst = lambda xs: max(ms for _, ms in xs)
    print(f"{n} streams asked for in {opened:.1f} s: {dict(sorted(answers.items()))}")
    print(f"/healthz while they were asked for ({len(health)} probes): statuses {sorted(set(s for s, _ in health))}, slowest {worst(health):.1f} ms")
    print(f"ticket list while they are open: statuses {sorted(set(s for s, _ in lists))}, slowest {worst(lists):.1f} ms")
    for w in writers:
        if w is not None:
            w.close()


asyncio.run(main())
