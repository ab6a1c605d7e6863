#!/usr/bin/env python3
"""CPU per add, split by thread, while wrk drives W1a (bench/wrk/add.lua) at a fresh server.

    python3 bench/wrk/cpu_per_add.py --bin target/release/taskcenter [--n 100000]
        [--connections 64] [--perf OUT.data] [--store URL]
    python3 bench/wrk/cpu_per_add.py --bare target/release/taskcenter-bench [--n 100000]

--bare runs the same load against the bench's bare HTTP server (answers every add with a
fixed body, stores nothing): the HTTP exchange's own CPU, to subtract.

Reads every server thread's user+system CPU time from /proc before and after the run and
divides by the adds answered, so the figures hold on a machine shared with other work
(unlike shares of a machine-wide profile). Threads are grouped by name: `tokio-rt-worker`
(HTTP: accept, parse, decode, validate, answer), `taskcenter-sqli` (the SQLite writer:
B-tree inserts, WAL writes, the fsync's system time), and the others. wrk's own CPU is
reported too (`wrk`), and the server's resident set size idle (ready, before the load) and
right after it (`rss_kib`). With --perf, `perf record -e cpu-clock -g` samples the server
meanwhile (read it with `perf report -i OUT.data --sort comm,dso,sym`).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """{thread name: seconds of user+system CPU} of every thread of `pid`."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        secs = (int(fields[11]) + int(fields[12])) / TICK
        out[name] = out.get(name, 0.0) + secs
    return out


def rss_kib(pid):
    """Resident set size of `pid` in KiB (what `ps -o rss` shows)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, limit=60):
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    sys.exit("server never became ready")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--bare")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--perf")
    ap.add_argument("--store")
    a = ap.parse_args()
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "add.lua")
    work = tempfile.mkdtemp(prefix="taskcenter-cpu-per-add.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKCENTER_")}
    log = open(work + "/server.log", "w")
    if a.bare:
        server = subprocess.Popen([a.bare, "bare-server"], stdout=subprocess.PIPE, stderr=log,
                                  text=True)
        url = "http://" + server.stdout.readline().split("listening on ")[1].strip()
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [a.bin, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", work + "/data"]
        if a.store:
            args += ["--store", a.store]
        server = subprocess.Popen(args, stdout=log, stderr=log, env=env)
    perf = None
    try:
        if not a.bare:
            wait_ready(url, server)
        if a.perf:
            perf = subprocess.Popen(
                ["perf", "record", "-e", "cpu-clock", "-F", "1999", "-g", "-p",
                 str(server.pid), "-o", a.perf],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        rss_idle = rss_kib(server.pid)
        before = thread_cpu(server.pid)
        r0 = os.times()
        wrk = subprocess.run(
            ["wrk", "-t1", f"-c{a.connections}", "-d600s", "--timeout", "10s", "-s", script,
             url, "--", str(a.n), str(int(time.time()))],
            capture_output=True, text=True, check=True)
        r1 = os.times()
        after = thread_cpu(server.pid)
        rss_after = rss_kib(server.pid)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        line = [l for l in wrk.stdout.splitlines() if l.startswith("{")][-1]
        got = json.loads(line)
        adds = got["adds_ok"]
        secs = got["secs"]
        groups = {}
        for name, t in after.items():
            d = t - before.get(name, 0.0)
            groups[name] = groups.get(name, 0.0) + d
        wrk_cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
        per_add = {k: round(v / adds * 1e6, 2) for k, v in sorted(groups.items())}
        per_add["server total"] = round(sum(groups.values()) / adds * 1e6, 2)
        per_add["wrk"] = round(wrk_cpu / adds * 1e6, 2)
        print(json.dumps({
            "adds_ok": adds, "adds_failed": got["adds_failed"], "secs": round(secs, 3),
            "per_sec": round(adds / secs) if secs else 0,
            "cpu_us_per_add": per_add,
            "rss_kib": {"idle": rss_idle, "after": rss_after},
            "loadavg": open("/proc/loadavg").read().split()[:3],
        }))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
