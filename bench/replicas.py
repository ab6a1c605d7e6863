#!/usr/bin/env python3
"""Load driver of bench/replicas.sh: adds and fires per second against taskcenter replicas
that share one PostgreSQL database. Standard library only.

  replicas.py adds  --servers URL,URL --n N --batch B --inflight C   single or batch adds
  replicas.py fires --servers URL,URL --n N --db URL                  a burst due at once

Each prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import subprocess
import sys
import threading
import time
import urllib.parse


def log(msg):
    print(f"  [replicas.py] {msg}", file=sys.stderr, flush=True)


class Client:
    """One keep-alive HTTP connection to one replica."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = None

    def post(self, path, body):
        payload = json.dumps(body).encode()
        for _ in range(2):  # one reconnect if the server closed an idle connection
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.conn.request(
                    "POST", path, body=payload, headers={"content-type": "application/json"}
                )
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn = None
        return 0, b""


def task(i, due_s):
    return {"name": "bench.rep", "type": 1, "data": f"payload {due_s} {i:08d}", "start_time": due_s}


def add_process(args):
    """One process of the add load: `threads` threads, each sending its share of requests
    to the replica of its index, round robin. Returns (tasks added, failed requests)."""
    servers, first, count, batch, threads, due_s = args
    lock = threading.Lock()
    totals = [0, 0]

    def run(t):
        client = Client(servers[(first + t) % len(servers)])
        added = failed = 0
        for k in range(t, count, threads):
            base = (first * 1_000_000) + k * batch
            if batch == 1:
                status, _ = client.post("/v1/api/task", task(base, due_s))
            else:
                body = [task(base + j, due_s) for j in range(batch)]
                status, _ = client.post("/v1/api/tasks", body)
            if status == 200:
                added += batch
            else:
                failed += 1
        with lock:
            totals[0] += added
            totals[1] += failed

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return totals


def add_load(servers, n, batch, inflight, due_s, processes=4):
    """Sends `n` tasks in requests of `batch`, `inflight` requests at once, spread over
    the replicas. Returns (tasks added, failed requests, seconds)."""
    requests = n // batch
    processes = min(processes, inflight)
    threads = max(1, inflight // processes)
    jobs = []
    for p in range(processes):
        share = requests // processes + (1 if p < requests % processes else 0)
        jobs.append((servers, p, share, batch, threads, due_s))
    with mp.Pool(processes) as pool:
        t0 = time.monotonic()
        results = pool.map(add_process, jobs)
        took = time.monotonic() - t0
    return sum(r[0] for r in results), sum(r[1] for r in results), took


def psql(db, sql):
    out = subprocess.run(
        ["psql", db, "-Atc", sql], check=True, capture_output=True, text=True
    ).stdout
    return out.strip()


def cmd_adds(a):
    servers = a.servers.split(",")
    due_s = int(time.time()) + 3600  # far ahead: nothing fires during the run
    added, failed, took = add_load(servers, a.n, a.batch, a.inflight, due_s)
    rate = added / took if took > 0 else 0.0
    log(f"{added} tasks in {took:.2f} s ({rate:.0f}/s), {failed} failed requests")
    print(json.dumps({"tasks": added, "failed_requests": failed, "seconds": round(took, 3),
                      "adds_per_s": round(rate)}))


def cmd_fires(a):
    servers = a.servers.split(",")
    # The burst is due once every task is in: the adds run ahead of it.
    due_s = int(time.time()) + a.lead_s
    added, failed, took = add_load(servers, a.n, 500, 8, due_s)
    if failed or added != a.n:
        log(f"adding the burst failed: {added} added, {failed} failed requests")
    log(f"{added} tasks due at {due_s} added in {took:.1f} s")
    if time.time() > due_s:
        log("warning: the adds ran past the due time; raise --lead-s")
    samples = []
    deadline = due_s + a.timeout_s
    while time.time() < deadline:
        n = int(psql(a.db, "SELECT count(*) FROM fires") or 0)
        samples.append((time.time(), n))
        if n >= added:
            break
        time.sleep(0.05)
    fired = samples[-1][1] if samples else 0

    def when(fraction):
        goal = fraction * added
        return next((t for t, n in samples if n >= goal), None)

    t10, t90 = when(0.1), when(0.9)
    rate = 0.8 * added / (t90 - t10) if t10 and t90 and t90 > t10 else None
    span = psql(a.db, "SELECT max(published_at) - min(fire_time) FROM fires") or "0"
    dupes = psql(a.db, "SELECT count(*) - count(DISTINCT task_id) FROM fires") or "0"
    by = psql(a.db, "SELECT string_agg(n::text, ',' ORDER BY n DESC) FROM "
                    "(SELECT count(*) n FROM fires GROUP BY replica) x")
    log(f"{fired} of {added} fired; 10%..90% at {rate or 0:.0f}/s; "
        f"last commit {span} ms after the due time; per replica {by}")
    print(json.dumps({"tasks": added, "fired": fired, "fires_per_s": round(rate) if rate else None,
                      "last_fire_after_due_ms": int(span), "duplicate_fires": int(dupes),
                      "fires_per_replica": [int(x) for x in by.split(",")] if by else []}))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    adds = sub.add_parser("adds")
    adds.add_argument("--servers", required=True)
    adds.add_argument("--n", type=int, default=20000)
    adds.add_argument("--batch", type=int, default=1)
    adds.add_argument("--inflight", type=int, default=64)
    fires = sub.add_parser("fires")
    fires.add_argument("--servers", required=True)
    fires.add_argument("--db", required=True)
    fires.add_argument("--n", type=int, default=50000)
    fires.add_argument("--lead-s", type=int, default=15)
    fires.add_argument("--timeout-s", type=int, default=120)
    a = ap.parse_args()
    {"adds": cmd_adds, "fires": cmd_fires}[a.cmd](a)


if __name__ == "__main__":
    main()
