#!/usr/bin/env python3
"""Every raw counter of a `make bench` run, per driver, beside each other.

    qemu-test/bench_counters.py [--results bench-results] [--queues 1] [WORKLOAD...]

BENCHMARKS.md shows a few counters per workload; when a ratio is below 1.00 the
question is which of the others moved with it (interrupts per CPU, ACKs sent per
packet received, NAPI polls, the peer's packets). This prints, for each workload,
the median over the measured rounds of every key the guest recorded: counts per
1,000 DUT packets (sent + received), the rest (throughput, latency, packet counts)
as measured. No verdicts: the report gives those.
"""

import argparse
import collections
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import f, load, med, per  # noqa: E402

# Keys printed as measured, not per packet.
ABSOLUTE = {"mbps", "p50_us", "p99_us", "msgs", "secs", "dut_tx_pkts", "dut_rx_pkts"}
# Keys that name the measurement rather than measure it.
LABELS = {"boot", "q", "drv", "round", "wl"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="bench-results")
    ap.add_argument("--queues", default="1", help="queue-pair count of the rows to show")
    ap.add_argument("workloads", nargs="*")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`

    rows = collections.defaultdict(list)
    for d in load(args.results):
        if d.get("q") != args.queues or d.get("round") == "0" or d["wl"] in ("mem", "module"):
            continue
        rows[(d["wl"], d["drv"])].append(d)
    if not rows:
        sys.exit(f"bench_counters: no measured rows with {args.queues} queue pair(s) in {args.results}")
    wls = args.workloads or sorted({wl for wl, _ in rows}, key=str)
    for wl in wls:
        drvs = sorted(d for w, d in rows if w == wl)
        if not drvs:
            sys.exit(f"bench_counters: no workload {wl!r} in {args.results}")
        print(f"== {wl} ({args.queues} queue pair(s)), rounds: "
              + ", ".join(f"{d} {len(rows[(wl, d)])}" for d in drvs))
        keys = sorted({k for d in drvs for r in rows[(wl, d)] for k in r} - LABELS)
        for k in keys:
            cells = []
            for drv in drvs:
                rs = rows[(wl, drv)]
                if k in ABSOLUTE:
                    v = med([f(r, k) for r in rs])
                else:
                    v = med([per(f(r, k), f(r, "dut_tx_pkts") + f(r, "dut_rx_pkts"), 1000) for r in rs])
                cells.append(f"{drv}={v:.4g}" if v == v else f"{drv}=-")
            unit = "" if k in ABSOLUTE else " /1k pkts"
            print(f"  {k + unit:32s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
