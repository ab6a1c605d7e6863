#!/usr/bin/env python3
"""Draws the lateness distributions of one bench/run as a PNG.

usage: python3 bench/chart.py RESULTS_DIR [OUT.png]   (default OUT: bench/lateness.png)

Reads RESULTS_DIR/samples/{tc,bq}-{w2,w3,w4}.txt (one sample in ms per line, written by
bench/run) and plots, per workload, the distribution (CDF) of both systems on a log
axis. Needs matplotlib (`pip install matplotlib`); bench/run itself does not.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter, ScalarFormatter  # noqa: E402

PANELS = [
    ("w2", "W2 burst: all due at one instant T, 1 consumer process\nlateness = consumed − T"),
    ("w3", "W3 precision: due spread over 20 s\nlateness = consumed − due"),
    ("w4", "W4 loops: every 1 s\ndrift = consumed − ideal grid time"),
]
SIDES = [("tc", "taskcenter", "tab:blue"), ("bq", "BullMQ", "tab:orange")]
FLOOR_MS = 0.5  # samples below this (0 ms) are drawn at it, as a log axis has no 0


def read(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return sorted(float(x) for x in f if x.strip())


def pct(sorted_vals, p):
    rank = max(1, min(len(sorted_vals), -(-int(p * len(sorted_vals)) // 100)))
    return sorted_vals[rank - 1]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "lateness.png")
    fig, axes = plt.subplots(1, len(PANELS), figsize=(16, 5))
    for ax, (w, title) in zip(axes, PANELS):
        for prefix, label, color in SIDES:
            vals = read(os.path.join(results, "samples", f"{prefix}-{w}.txt"))
            if not vals:
                continue
            n = len(vals)
            xs = [max(v, FLOOR_MS) for v in vals]
            ys = [100.0 * (i + 1) / n for i in range(n)]
            p50, p99 = pct(vals, 50), pct(vals, 99)
            ax.step(xs, ys, where="post", color=color, label=f"{label} (n={n}): p50 {p50:g} ms, p99 {p99:g} ms, max {vals[-1]:g} ms")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("ms (log scale)")
        ax.set_ylabel("% of fires at or below")
        ax.set_ylim(0, 100.5)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"taskcenter vs BullMQ, lateness distributions ({os.path.basename(os.path.normpath(results))})")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
