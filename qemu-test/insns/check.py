#!/usr/bin/env python3
"""make test's performance check: fails when our driver executes more instructions
per packet than the in-tree virtio_net on any counted workload.

Reads report.py's table of the DUT's driver ("driver ours", "driver in-tree") and
allows TOL (a fraction) above the in-tree count on request/response workloads
(rr_*), FLOOD_TOL on the others: each the count's run-to-run variation, measured
as in docs/benchmarking.md (about 2 % on request/response; floods and streams batch
as timing goes, about 5 %: udp64_tx's ratio was 0.96, 0.98 and 1.02 in three fresh
clones of one week). Prints one line per workload and exits 1 on a failure, 2 when
there is nothing to check.

usage: check.py INSNS.md TOL [FLOOD_TOL]
"""
import sys


def rows(path):
    cols, out = None, []
    for line in open(path):
        if not line.startswith("|"):
            if cols and out:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "driver ours" in cells:
            cols = cells
        elif cols and not cells[0].startswith("---"):
            out.append(dict(zip(cols, cells)))
    return out


def main(path, rr_tol, flood_tol):
    checked = failed = 0
    for r in rows(path):
        try:
            ours = float(r["driver ours"].replace(",", ""))
            intree = float(r["driver in-tree"].replace(",", ""))
        except ValueError:
            print(f"insns: {r['queues']} pair(s) {r['workload']}: no count ({r['driver ours']}, "
                  f"{r['driver in-tree']})")
            failed += 1
            continue
        checked += 1
        tol = rr_tol if r["workload"].startswith("rr_") else flood_tol
        ok = ours <= intree * (1 + tol)
        failed += not ok
        print(f"{'ok' if ok else 'FAIL'}: insns: {r['queues']} pair(s) {r['workload']}: ours {ours:,.0f}, "
              f"in-tree {intree:,.0f} instructions per packet (ours/in-tree {ours / intree:.2f}, "
              f"limit {1 + tol:.2f})")
    if not checked:
        print(f"insns: nothing to check in {path}")
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    tol = float(sys.argv[2])
    sys.exit(main(sys.argv[1], tol, float(sys.argv[3]) if len(sys.argv) > 3 else tol))
