#!/usr/bin/env python3
"""Turns the raw lines of `make bench` into the markdown report and PNG charts.

Input: RESULTS/raw-q*.txt, one measurement per line
    q=1 drv=virtio_net_rust round=3 wl=tcp1_tx mbps=512 cpu_s=5.9 dut_tx_bytes=...
Round 0 is the warm-up and is dropped. For every workload and metric: the median
and min-max over rounds per driver, and the ratio ours/in-tree oriented so that
above 1.00 means ours is better (for latency and CPU cost, in-tree/ours).
"""
import argparse
import collections
import datetime
import glob
import os
import platform
import re
import statistics
import subprocess

OURS, INTREE = "virtio_net_rust", "virtio_net"

WORKLOADS = {
    "tcp1_tx": "TCP stream, 1 flow, DUT sends",
    "tcp1_rx": "TCP stream, 1 flow, DUT receives",
    "tcp4_tx": "TCP stream, 4 flows, DUT sends",
    "tcp4_rx": "TCP stream, 4 flows, DUT receives",
    "udp64_tx": "64-byte UDP flood (pktgen), DUT sends",
    "udp64_rx": "64-byte UDP flood (pktgen), DUT receives",
    "rr_tcp_tx": "TCP ping-pong (sockperf), DUT is client",
    "rr_tcp_rx": "TCP ping-pong (sockperf), DUT is server",
    "rr_udp_tx": "UDP ping-pong (sockperf), DUT is client",
    "rr_udp_rx": "UDP ping-pong (sockperf), DUT is server",
    "xdp_drop": "64-byte UDP flood (pktgen) into an XDP_DROP program",
    "xdp_tx": "64-byte UDP flood (pktgen) sent back by an XDP_TX program",
    "xsk_copy_rx": "64-byte UDP flood (pktgen) into an AF_XDP socket, copy mode",
    "xsk_zc_rx": "64-byte UDP flood (pktgen) into an AF_XDP socket, zero-copy (ours only)",
    "xsk_copy_tx": "64-byte frames flooded by an AF_XDP socket, copy mode",
    "xsk_zc_tx": "64-byte frames flooded by an AF_XDP socket, zero-copy (ours only)",
}


def f(d, k):
    try:
        return float(d.get(k, "nan"))
    except ValueError:
        return float("nan")


def per(a, b, scale=1.0):
    return a / b * scale if b else float("nan")


def metrics(wl, d, secs):
    """The metrics of one measurement: name -> (value, higher_is_better)."""
    m = {}
    txp, rxp = f(d, "dut_tx_pkts"), f(d, "dut_rx_pkts")
    if wl.startswith("tcp"):
        m["Mbit/s"] = (f(d, "mbps"), True)
        nbytes = f(d, "dut_tx_bytes") if wl.endswith("_tx") else f(d, "dut_rx_bytes")
        m["CPU s/GB"] = (per(f(d, "cpu_s"), nbytes, 1e9), False)
    elif wl.startswith("udp"):
        if wl.endswith("_tx"):
            m["pps sent"] = (txp / secs, True)
            m["pps delivered"] = (f(d, "peer_rx_pkts") / secs, True)
            pk = txp
        else:
            m["pps offered"] = (f(d, "peer_tx_pkts") / secs, True)
            m["pps delivered"] = (rxp / secs, True)
            pk = rxp
        m["CPU s/Mpkt"] = (per(f(d, "cpu_s"), pk, 1e6), False)
    elif wl.startswith("xdp"):
        # dut_rx_pkts: frames the program ran on (the guest's w_xdp).
        m["pps offered"] = (f(d, "peer_tx_pkts") / secs, True)
        m["pps through XDP"] = (rxp / secs, True)
        if wl == "xdp_tx":
            m["pps sent back"] = (f(d, "peer_rx_pkts") / secs, True)
        m["CPU s/Mpkt"] = (per(f(d, "cpu_s"), rxp, 1e6), False)
    elif wl.startswith("xsk"):
        # dut_rx_pkts / dut_tx_pkts: the frames the socket received / sent.
        if wl.endswith("_tx"):
            m["pps sent"] = (txp / secs, True)
            m["pps delivered"] = (f(d, "peer_rx_pkts") / secs, True)
            pk = txp
        else:
            m["pps offered"] = (f(d, "peer_tx_pkts") / secs, True)
            m["pps to the socket"] = (rxp / secs, True)
            pk = rxp
        m["CPU s/Mpkt"] = (per(f(d, "cpu_s"), pk, 1e6), False)
    elif wl.startswith("rr"):
        m["p50 us"] = (f(d, "p50_us"), False)
        m["p99 us"] = (f(d, "p99_us"), False)
        m["CPU s/Mpkt"] = (per(f(d, "cpu_s"), txp + rxp, 1e6), False)
    return m


def counters(d):
    """Our driver's path counters for one measurement (None when absent)."""
    # Packets from the interface's own counters: both drivers keep them.
    txp, rxp = f(d, "dut_tx_pkts"), f(d, "dut_rx_pkts")
    c = {
        "tx kicks/pkt": per(f(d, "eth_tx_kicks"), txp),
        "rx kicks/pkt": per(f(d, "eth_rx_kicks"), rxp),
        "irqs/pkt": per(f(d, "irqs"), txp + rxp),
        # Receive and transmit-completion NAPI polls together (older runs had one
        # NAPI per pair and no tx_napi_polls).
        "pkts/poll": per(txp + rxp, f(d, "eth_rx_napi_polls") + (d.get("eth_tx_napi_polls") and
                                                                 f(d, "eth_tx_napi_polls") or 0)),
        "bufs/rx pkt": per(f(d, "eth_rx_bufs"), rxp),
        # QEMU's own host CPU time over the window (vCPU threads and the rest: device
        # emulation, tap I/O), noted by the host at the guest's marks (vm.py); runs
        # before it lack it.
        "host us/pkt": per(f(d, "host_vcpu_s") + f(d, "host_other_s"), txp + rxp, 1e6),
    }
    return c


def med(v):
    v = [x for x in v if x == x]
    return statistics.median(v) if v else float("nan")


def spread(v):
    v = [x for x in v if x == x]
    return (min(v), max(v)) if v else (float("nan"), float("nan"))


def self_gap(rounds, vals):
    """How far a driver differs from itself: the ratio (>= 1) between the medians of
    its odd and its even measured rounds, which ran interleaved with the other
    driver's. A gap between the drivers no larger than this is noise."""
    odd = [v for r, v in zip(rounds, vals) if r % 2 == 1]
    even = [v for r, v in zip(rounds, vals) if r % 2 == 0]
    a, b = med(odd), med(even)
    if not (a and b) or a != a or b != b:
        return float("nan")
    return max(a / b, b / a)


def better_ratio(ours, intree, higher_is_better):
    """Ours against the in-tree driver, above 1 when ours is better; NaN without both."""
    if not (ours and intree):
        return float("nan")
    return ours / intree if higher_is_better else intree / ours


def rounds_ahead(sel, wl, name, secs):
    """Paired rounds: in how many measured rounds ours did better than the in-tree
    driver in the same round (the two run back to back, so slow drifts of the
    host's load cancel), out of how many. All n one way is a sign test at p = 2^-n."""
    by_round = collections.defaultdict(dict)
    for drv, rs in sel.items():
        for r in rs:
            by_round[int(r["round"])][drv] = metrics(wl, r, secs)[name]
    ahead = n = 0
    for pair in by_round.values():
        if OURS not in pair or INTREE not in pair:
            continue
        (o, hib), (i, _) = pair[OURS], pair[INTREE]
        if o != o or i != i:
            continue
        n += 1
        ahead += (o >= i) if hib else (o <= i)
    return ahead, n


def fmt(x):
    if x != x:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def load(results):
    rows = []
    for path in sorted(glob.glob(os.path.join(results, "raw-q*.txt"))):
        for line in open(path):
            d = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if "wl" in d:
                rows.append(d)
    return rows


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def parse_ratios(text):
    """The ratio column of a report's tables: {(queue pairs, workload, metric): ratio}."""
    ratios, q, wl = {}, None, None
    for line in text.splitlines():
        m = re.match(r"## (\d+) queue pair", line)
        if m:
            q = int(m[1])
            continue
        if line.startswith("## "):
            q = None
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if q is None or not line.startswith("|") or len(c) < 7 or c[1] == "metric":
            continue
        wl = c[0] or wl
        try:
            ratios[(q, wl, c[1])] = float(c[4])
        except ValueError:
            pass
    return ratios


# How the drivers are paired, as the report says it: runs paired another way
# (before: a whole round of workloads per driver, pairs about a minute apart) are
# not set beside this one.
PAIRING = "both drivers back to back on each workload"
# Since when request/response counters leave out the client's start-up: the CPU cost
# per packet of earlier runs' request/response workloads carried it and is not set
# beside later ones (their latencies are sockperf's own and unchanged).
RR_WINDOW = "request/response windows open after the client's start-up"
# Since when CPU time is the guest's exact busy time (the window times the vCPUs
# minus their NOHZ idle time) rather than the tick's samples of busy time, which were
# up to 37 % lower and biased per CPU: earlier runs' CPU ratios are not set beside
# later ones.
CPU_EXACT = "CPU time is the window times the vCPUs minus their idle time, not tick samples"


# Where the applications ran (VNR_BENCH_PIN): unpinned, TCP streams fell into one of
# two modes at random; runs placed differently are not set beside each other.
def placement(pin):
    if pin == "none":
        return "applications placed by the scheduler"
    dut, peer = pin.split(",")
    return (f"applications pinned: the DUT side's to vCPU {dut}, the peer side's to vCPU {peer} "
            "(iperf3 -A, taskset)")


# The whole guest's instructions per packet moved by about 1 % between plugin runs of
# the same code (request/response: timers and scheduling around each wait).
INSNS_PARITY = 0.99


def insns_ratios(path):
    """Instruction ratios (in-tree/ours) per (queue pairs, workload) from the plugin
    boot's report: {(q, wl): (driver ratio, guest ratio)}."""
    got = {}
    if not path or not os.path.exists(path):
        return got
    table = False
    for line in open(path):
        if line.startswith("The DUT's driver"):
            table = True
            continue
        if not table:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 8 or not cells[0].isdigit():
            if got and not line.startswith("|"):
                break
            continue
        try:
            got[(cells[0], cells[1])] = (float(cells[4]), float(cells[7]))
        except ValueError:
            pass
    return got


def demangle(syms):
    """Rust v0 symbols made readable with llvm-cxxfilt (LLVM 14's knows them);
    the names as they are if it is missing."""
    for tool in ("llvm-cxxfilt", "llvm-cxxfilt-14"):
        try:
            out = subprocess.run([tool], input="\n".join(syms), capture_output=True,
                                 text=True, check=True).stdout.splitlines()
            if len(out) == len(syms):
                return dict(zip(syms, out))
        except (OSError, subprocess.CalledProcessError):
            pass
    return {x: x for x in syms}


def copy_table(w, lines, title, with_title):
    """Writes the table of report.py's output that follows the line starting with
    `title` (and that line, with `with_title`)."""
    table = False
    for line in lines:
        if line.startswith(title):
            table = True
            if with_title:
                w("")
                w(line)
                w("")
            continue
        if table:
            if line.startswith("|"):
                w(line)
            elif line.strip():
                break


def insns_section(w, path, sizes):
    """The figure that decides (issue: instructions per packet): the drivers' own
    instructions per packet and the whole guest's, per workload and queue-pair
    count; then the drivers' functions that execute the most per packet at one
    pair; then the module sizes."""
    lines = open(path).read().splitlines()
    w("## Instructions per packet (TCG plugin)")
    w("")
    w("Counted by a QEMU plugin (`qemu-test/insns`) over each measurement window, in a boot "
      "of its own per queue-pair count, one measured round per driver after a warm-up: a "
      "cost that does not depend on how loaded the host is, unlike the timed tables below. "
      "**driver**: the DUT driver's own module code (ours with its C helpers, inlined by "
      "cross-language LTO); **guest**: every instruction the guest ran (both NICs' sides), "
      "both per DUT packet (sent + received; a TCP stream's packets are GSO packets of varying "
      "size, and a vCPU spinning on a lock counts while it waits); **guest/KiB**: the whole "
      "guest per KiB the DUT sent and received, the fair figure for streams, whose packet "
      "size follows timing (16-41 KB between rounds of one run). **Ratio**: in-tree / "
      "ours, above 1.00 when ours executes fewer. Blocks: translated blocks run (a call, a "
      "return or a taken branch ends one). Request/response counts repeat within about 2 % "
      "between runs, floods and streams within about 5 % (their batching follows timing).")
    w("")
    copy_table(w, lines, "The DUT's driver", False)
    # AF_XDP: zero-copy (ours only) against copy mode, when the run had those
    # workloads.
    copy_table(w, lines, "AF_XDP, instructions per frame", True)
    # The drivers' own functions, per workload at one pair.
    sec, rows = None, []

    def flush():
        if not sec or not rows:
            return
        rows.sort(key=lambda r: -max(r[1], r[2]))
        names = demangle([r[0] for r in rows])
        rows[:] = [(names[n], a, b) for n, a, b in rows]
        w(f"| {sec} | " + "; ".join(f"`{n}` {a:,.0f}" for n, a, b in rows if a)[:1000] + " | "
          + "; ".join(f"`{n}` {b:,.0f}" for n, a, b in rows if b)[:1000] + " |")

    w("")
    w("Where each driver's instructions go at one pair (functions of the DUT driver's "
      "module, instructions per DUT packet, largest first; `make bench` prints the whole "
      "kernel's per-function differences in `bench-results/insns.md`):")
    w("")
    w("| workload | ours | in-tree |")
    w("|---|---|---|")
    for line in lines:
        m = re.match(r"^(\S+), (\d+) queue pair\(s\): kernel and module", line)
        if m:
            flush()
            sec, rows = (m[1] if m[2] == "1" else None), []
            continue
        if sec and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            name = cells[0].strip("`")
            mod = re.search(r" \[(virtio_net_rust|virtio_net)\]$", name)
            if not mod:
                continue
            rows.append((name[:mod.start()], float(cells[1].replace(",", "")), float(cells[2].replace(",", ""))))
    flush()
    if os.path.exists(sizes):
        w("")
        w("Module size, `size` of the two modules as built for the benchmark kernel (bytes):")
        sizes_table(w, sizes)
    w("")


def sizes_table(w, sizes):
    """`size`'s text, data and bss of each module (sizes.txt, written by bench.sh)."""
    w("")
    w("| module | text | data | bss |")
    w("|---|---|---|---|")
    for line in open(sizes).read().splitlines()[1:]:
        p = line.split()
        w(f"| {os.path.basename(p[5])} | {p[0]} | {p[1]} | {p[2]} |")


def evidence(w, summary, runs, ctl_runs, insns):
    """Every ratio below 1.00 beside what says whether it is the driver's: the A/A gap,
    the same metric in earlier runs, the control (identical code through this
    harness), and the plugin's instruction counts (deterministic, one pair only)."""
    below = [s for s in summary if s[3] == s[3] and s[3] < 1.0]
    if not below:
        return
    w("### Every ratio below 1.00 and what accounts for it")
    w("")
    w("A ratio below 1.00 is set beside four things that tell noise from a driver's cost: "
      "**A/A**, ours differs from the in-tree driver less than either differs from itself "
      "(verdict `noise`); **earlier runs**, in how many of the committed runs before this one "
      "the same metric was at or above 1.00 (accounts for it when most were); **control**, "
      "a committed control run measured identical code as far behind or further; **instructions**, the plugin boot's whole-guest "
      "instructions per packet for that workload, in-tree/ours (one queue pair only; at or above "
      f"{INSNS_PARITY:.2f}, the run-to-run variation of that count, ours makes the guest do no "
      "more work per packet). A ratio none of them accounts for is listed as such.")
    w("")
    w("| queue pairs | workload | metric | ratio | A/A | earlier runs >= 1.00 | control as low "
      "| instructions guest [driver] | accounted for by |")
    w("|---|---|---|---|---|---|---|---|---|")
    alone = []
    for s in below:
        q, wl, name, ratio, verdict, _, _ = s
        why = []
        if verdict == "noise":
            why.append("A/A")
        prev = [r.get((q, wl, name)) for _, r in runs]
        prev = [v for v in prev if v is not None]
        up = sum(1 for v in prev if v >= 1.0)
        # Most of them: a small real gap under this much noise still shows up at or
        # above 1.00 now and then.
        if prev and 2 * up > len(prev):
            why.append("earlier runs")
        ctl = [r[(q, wl, name)] for _, r in ctl_runs if (q, wl, name) in r]
        low = bool(ctl) and ratio >= min(ctl)
        if low:
            why.append("control")
        ins = insns.get((str(q), wl))
        if ins and ins[1] >= INSNS_PARITY:
            why.append("instructions")
        if not why:
            alone.append(s)
        w(f"| {q} | {wl} | {name} | {ratio:.2f} | {'within' if verdict == 'noise' else 'beyond'} "
          f"| {up}/{len(prev)} | {('yes, ' if low else 'no, ') + f'{min(ctl):.2f}' if ctl else '-'} "
          f"| {f'{ins[1]:.2f} [{ins[0]:.2f}]' if ins else '-'} | {', '.join(why) or '**none**'} |")
    w("")
    w(f"Of the {len(below)} ratios below 1.00, {len(below) - len(alone)} are accounted for by at "
      f"least one of these, {len(alone)} by none" + (":" if alone else "."))
    for q, wl, name, ratio, *_ in alone:
        w(f"- not accounted for: {q} queue pair(s), {wl} {name}: ratio {ratio:.2f}")
    w("")


def earlier_ratios(n, this_run="", path="BENCHMARKS.md", pin_how=""):
    """Ratios per (queue pairs, workload, metric) in the last `n` runs committed as
    `path` and measured the same way (PAIRING), newest first: whether a ratio below
    1.00 recurs run after run (a property of a driver) or flips sign (the host's
    noise)."""
    runs, seen = [], {this_run}
    for rev in sh("git", "log", "--format=%h", "--", path).split():
        if len(runs) == n:
            break
        text = sh("git", "show", f"{rev}:{path}")
        if PAIRING not in text or pin_how not in text:
            continue
        # A commit that only reformatted the same run is not another run.
        run = re.search(r"^Run of [^,]*, commit [0-9a-f]+", text, re.M)
        if run and run[0] in seen:
            continue
        if run:
            seen.add(run[0])
        ratios = parse_ratios(text)
        if RR_WINDOW not in text:
            ratios = {k: v for k, v in ratios.items()
                      if not (k[1].startswith("rr_") and k[2].startswith("CPU"))}
        if CPU_EXACT not in text:
            ratios = {k: v for k, v in ratios.items() if not k[2].startswith("CPU")}
        if ratios:
            runs.append((rev, ratios))
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--kernel", default="")
    ap.add_argument("--commit", default="", help="the commit measured (default: HEAD)")
    ap.add_argument("--peer", default="virtio_net", help="the peer NIC's driver")
    ap.add_argument("--pin", default="none",
                    help="VNR_BENCH_PIN: DUT,PEER vCPUs of the applications, or none")
    ap.add_argument("--control", action="store_true",
                    help="the DUT's 'ours' was the in-tree driver's own source under our name")
    ap.add_argument("--insns", default="",
                    help="qemu-test/insns/report.py's output for this run (instructions per packet)")
    args = ap.parse_args()
    rows = load(args.results)
    qs = sorted({int(r["q"]) for r in rows})
    nb = len({r.get("boot", "1") for r in rows})
    # Results measured before the guest timed idle time have only tick samples.
    cpu_how = CPU_EXACT if any("cpu_tick_s" in r for r in rows) else "CPU time is tick samples"
    pin_how = placement(args.pin)

    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    commit = sh("git", "rev-parse", "--short", "HEAD")
    if args.commit:
        commit = args.commit
    # Only changes to what is measured count (the driver, its build, the harness).
    elif sh("git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Kbuild",
          "kernel", "qemu-test"):
        commit += " (with uncommitted changes to the driver or harness)"
    out = []
    w = out.append
    if args.control:
        w("# Control run: the in-tree virtio_net against a copy of itself")
        w("")
        w("**Not our driver.** `VNR_BENCH_CONTROL=1 make bench`: in our driver's place, the "
          "benchmark kernel's own `drivers/net/virtio_net.c`, built as a second module under "
          "our module's name (only its fixed CPU-hotplug slot made dynamic), measured by the same "
          "harness against the in-tree module. Every column that says ours is that copy. Both run "
          "identical code, so a ratio away from 1.00 here is the setup's, not a driver's: e.g. the "
          "peer NIC shares the in-tree module's code with an in-tree DUT, and not with the copy.")
    else:
        w("# Benchmarks: virtio_net_rust against the in-tree virtio_net")
    w("")
    # When the measurements ended (the report may be written again later).
    ended = max(os.path.getmtime(p) for p in glob.glob(os.path.join(args.results, "raw-q*.txt")))
    ended = datetime.datetime.fromtimestamp(ended, datetime.timezone.utc)
    w(f"Run of {ended:%Y-%m-%d %H:%M} UTC, commit {commit}, "
      f"by `make bench` ({args.rounds} measured rounds per driver"
      + (f" over {nb} boots of the guest per queue-pair count, each after a warm-up round of its own, "
         if nb > 1 else " after one warm-up round, ")
      + f"{args.secs:g} s per workload, {PAIRING}: one swap per workload, A B on one and B A on the "
      "next, and every round starts with the other driver, so on each workload each driver goes "
      "first in every other round; same NIC, same guest in each boot; "
      f"{RR_WINDOW}, so their CPU cost per packet is a steady-state one; {cpu_how}; "
      f"{pin_how}).")
    w("")
    w(f"Machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; "
      "QEMU under TCG (no KVM here), guest with 2 vCPUs and 2 GiB, the benchmark kernel "
      "(`scripts/kernel.sh bench`: 6.12 without lockdep and the other debug checks). "
      "Both NICs on tap devices bridged in a private network namespace; the peer NIC always runs "
      + ("the in-tree module" if args.peer == "virtio_net" else
         f"`{args.peer}`, the in-tree driver's source built as a module of its own (so that "
         "neither DUT driver shares code with the peer's: with the in-tree module on the peer, "
         "a copy of the in-tree driver on the DUT measures behind the in-tree module itself, "
         "BENCHMARKS-control-intree-peer.md)")
      + ", so only the device under test (DUT) changes driver.")
    w("")
    sizes = os.path.join(args.results, "sizes.txt")
    if args.insns and os.path.exists(args.insns):
        insns_section(w, args.insns, sizes)
        w("## Timed runs")
        w("")
    w("**Ratio** is ours/in-tree for throughput and in-tree/ours for latency and CPU cost: "
      "above 1.00 means ours is better. **A/A** is how far each driver differs from itself: "
      "the ratio between the medians of its odd and its even rounds (it runs first in one and "
      "second in the other), the larger of the two drivers', as a percentage. **Verdict**: `>=1` ratio "
      "at least 1.00; `noise` below 1.00 by no more than the A/A gap (ours differs from the "
      "in-tree driver less than either differs from itself); `within spread` the two drivers' "
      "min-max ranges overlap; `slower` they do not. **Rounds ours ahead**: the two drivers run "
      "back to back on each workload in each round, seconds apart, so each round is a pair; in how many pairs ours did better "
      f"(ahead in all {args.rounds} of {args.rounds}, or behind in all, happens by chance with "
      f"p = 1/{2 ** args.rounds} if the rounds were independent; within one boot of the guest "
      "they are not: a boot's state can favour one driver in all of its rounds, hence the ratio per boot). "
      "Under TCG absolute numbers are slow and noisy; the ratio from one run is what counts. "
      "CPU cost is the busy time of the whole guest (DUT and peer side) per GB or per million "
      "packets.")
    w("")
    w("The drivers' counters stand beside each workload (medians): doorbells (kicks) per packet "
      "and virtqueue interrupts per packet (from `/proc/interrupts`) for both, packets per NAPI "
      "poll and RX buffers per packet for ours only (the in-tree driver does not count them).")
    charts = []
    summary = []
    by_boot = collections.defaultdict(list)
    for q in qs:
        w("")
        w(f"## {q} queue pair{'s' if q > 1 else ''}" + (" (mq=on)" if q > 1 else ""))
        w("")
        w("| workload | metric | ours median [min-max] | in-tree median [min-max] | ratio | A/A "
          "| rounds ours ahead | verdict |")
        w("|---|---|---|---|---|---|---|---|")
        crow = []
        for wl, title in WORKLOADS.items():
            per_drv = {}
            for drv in (OURS, INTREE):
                sel = [r for r in rows if int(r["q"]) == q and r["drv"] == drv and r["wl"] == wl
                       and int(r["round"]) > 0]
                per_drv[drv] = sel
            if not per_drv[OURS] or not per_drv[INTREE]:
                continue
            names = list(metrics(wl, per_drv[OURS][0], args.secs).keys())
            for i, name in enumerate(names):
                vals = {drv: [metrics(wl, r, args.secs)[name][0] for r in per_drv[drv]] for drv in per_drv}
                hib = metrics(wl, per_drv[OURS][0], args.secs)[name][1]
                mo, mi = med(vals[OURS]), med(vals[INTREE])
                so, si = spread(vals[OURS]), spread(vals[INTREE])
                ratio = better_ratio(mo, mi, hib)
                gap = max((self_gap([int(r["round"]) for r in per_drv[drv]], vals[drv])
                           for drv in per_drv), key=lambda g: g if g == g else 0)
                if ratio == ratio and ratio >= 1.0:
                    verdict = ">=1"
                elif ratio == ratio and gap == gap and 1 / ratio <= gap:
                    verdict = "noise"
                elif so[0] <= si[1] and si[0] <= so[1]:
                    verdict = "within spread"
                else:
                    verdict = "slower"
                ahead, n = rounds_ahead(per_drv, wl, name, args.secs)
                summary.append((q, wl, name, ratio, verdict, ahead, n))
                # The same ratio within each boot (VNR_BENCH_BOOTS).
                for b in sorted({r.get("boot", "1") for r in per_drv[OURS]}):
                    bo = med([v for r, v in zip(per_drv[OURS], vals[OURS]) if r.get("boot", "1") == b])
                    bi = med([v for r, v in zip(per_drv[INTREE], vals[INTREE]) if r.get("boot", "1") == b])
                    by_boot[(q, wl, name)].append(better_ratio(bo, bi, hib))
                crow.append((f"{wl} {name}", ratio))
                label = f"{wl}" if i == 0 else ""
                w(f"| {label} | {name} | {fmt(mo)} [{fmt(so[0])}-{fmt(so[1])}] | "
                  f"{fmt(mi)} [{fmt(si[0])}-{fmt(si[1])}] | {ratio:.2f} | "
                  f"{'n/a' if gap != gap else f'{(gap - 1) * 100:.0f}%'} | {ahead}/{n} | {verdict} |")
        w("")
        w("Counters per workload (medians over the measured rounds), ours with the in-tree "
          "driver's in brackets where it has them; packets are the DUT's sent + received; "
          "QEMU host CPU is the time QEMU itself took on the host over the window (its vCPU "
          "threads, device emulation and tap I/O), which the guest's own CPU figures do not see:")
        w("")
        w("| workload | tx kicks/pkt | rx kicks/pkt | irqs/pkt | pkts/poll | bufs/rx pkt | QEMU host CPU us/pkt |")
        w("|---|---|---|---|---|---|---|")
        for wl in WORKLOADS:
            so = [r for r in rows if int(r["q"]) == q and r["drv"] == OURS and r["wl"] == wl and int(r["round"]) > 0]
            si = [r for r in rows if int(r["q"]) == q and r["drv"] == INTREE and r["wl"] == wl and int(r["round"]) > 0]
            if not so:
                continue
            co = {k: med([counters(r)[k] for r in so]) for k in counters(so[0])}
            ci = {k: med([counters(r)[k] for r in si])
                  for k in ("tx kicks/pkt", "rx kicks/pkt", "irqs/pkt", "host us/pkt")} if si else {}
            w(f"| {wl} | {fmt(co['tx kicks/pkt'])} [{fmt(ci.get('tx kicks/pkt', float('nan')))}] | "
              f"{fmt(co['rx kicks/pkt'])} [{fmt(ci.get('rx kicks/pkt', float('nan')))}] | "
              f"{fmt(co['irqs/pkt'])} [{fmt(ci.get('irqs/pkt', float('nan')))}] | "
              f"{fmt(co['pkts/poll'])} | {fmt(co['bufs/rx pkt'])} | "
              f"{fmt(co['host us/pkt'])} [{fmt(ci.get('host us/pkt', float('nan')))}] |")
        # Memory.
        w("")
        w("Memory:")
        w("")
        w("| | ours median [min-max] | in-tree median [min-max] | ratio |")
        w("|---|---|---|---|")
        for label, key, scale in (("RX buffers posted at rest, KiB per queue", "rx_posted_bytes", 1024),):
            v = {}
            for drv in (OURS, INTREE):
                v[drv] = [f(r, key) / scale / max(f(r, "queues"), 1) for r in rows
                          if int(r["q"]) == q and r["drv"] == drv and r["wl"] == "mem" and int(r["round"]) > 0]
            if v[OURS] and v[INTREE]:
                mo, mi = med(v[OURS]), med(v[INTREE])
                so, si = spread(v[OURS]), spread(v[INTREE])
                w(f"| {label} | {fmt(mo)} [{fmt(so[0])}-{fmt(so[1])}] | {fmt(mi)} [{fmt(si[0])}-{fmt(si[1])}] | "
                  f"{(mi / mo if mo else float('nan')):.2f} |")
        for wl in ("udp64_tx", "udp64_rx"):
            v = {}
            for drv in (OURS, INTREE):
                sel = [r for r in rows if int(r["q"]) == q and r["drv"] == drv and r["wl"] == wl and int(r["round"]) > 0]
                pk = "dut_tx_pkts" if wl.endswith("_tx") else "dut_rx_pkts"
                v[drv] = [per(f(r, "slab_kb"), f(r, pk), 1e6) for r in sel]
            if v[OURS] and v[INTREE]:
                mo, mi = med(v[OURS]), med(v[INTREE])
                so, si = spread(v[OURS]), spread(v[INTREE])
                w(f"| slab growth during {wl}, KiB per million packets | {fmt(mo)} [{fmt(so[0])}-{fmt(so[1])}] | "
                  f"{fmt(mi)} [{fmt(si[0])}-{fmt(si[1])}] | |")
        charts.append((q, crow))

    if os.path.exists(sizes) and not (args.insns and os.path.exists(args.insns)):
        w("")
        w("## Module size")
        w("")
        w("`size` of the two modules as built for the benchmark kernel (bytes):")
        sizes_table(w, sizes)

    slower = [s for s in summary if s[4] == "slower"]
    w("")
    w("## Summary")
    w("")
    w(f"{len(summary)} workload metrics: {sum(1 for s in summary if s[4] == '>=1')} with ratio >= 1.00, "
      f"{sum(1 for s in summary if s[4] == 'noise')} below 1.00 by less than a driver's A/A gap, "
      f"{sum(1 for s in summary if s[4] == 'within spread')} beyond that but within the measured spread, "
      f"{len(slower)} slower.")
    def boots(s):
        v = by_boot.get(s[:3], [])
        return f" (per boot: {', '.join(f'{x:.2f}' for x in v)})" if len(v) > 1 else ""
    for q, wl, name, ratio, verdict, _, _ in summary:
        if verdict == "within spread":
            w(f"- within spread: {q} queue pair(s), {wl} {name}: ratio {ratio:.2f}" + boots((q, wl, name)))
    for q, wl, name, ratio, *_ in slower:
        w(f"- slower: {q} queue pair(s), {wl} {name}: ratio {ratio:.2f}" + boots((q, wl, name)))
    w("")
    if nb > 1:
        # A boot's state can favour one driver in every round of that boot: a ratio
        # that is below 1.00 in one boot and not in another is that, not a driver's.
        below = [s for s in summary if s[3] == s[3] and s[3] < 1.0]
        every = [s for s in below if len(by_boot[s[:3]]) == nb
                 and all(x == x and x < 1.0 for x in by_boot[s[:3]])]
        w(f"Per boot ({nb} boots per queue-pair count, each with its share of the rounds): of the "
          f"{len(below)} ratios below 1.00, {len(every)} are below 1.00 in every boot"
          + (":" if every else "; the others are at or above 1.00 in at least one boot."))
        for s in every:
            w(f"- below in every boot: {s[0]} queue pair(s), {s[1]} {s[2]}: ratio {s[3]:.2f}" + boots(s))
        w("")
    # The paired view: rounds in which ours was behind the in-tree driver of the same
    # round. Behind in every one of n rounds is a sign test at p = 2^-n.
    behind = [s for s in summary if s[6] and s[5] == 0]
    ahead = [s for s in summary if s[6] and s[5] == s[6]]
    w(f"Paired rounds (both drivers back to back on each workload in each round): ours ahead in every "
      f"round on {len(ahead)} metrics, behind in every round on {len(behind)}"
      + (":" if behind else "."))
    for q, wl, name, ratio, _, _, n in behind:
        w(f"- behind in all {n} rounds: {q} queue pair(s), {wl} {name}: ratio {ratio:.2f}" + boots((q, wl, name)))
    w("")

    # Under TCG on a shared host one run's ratio may be noise; the same metric in
    # the committed runs before this one tells noise (it flips) from a gap (it recurs).
    # A control run is set beside our driver's runs: the gaps both show are the setup's.
    runs = earlier_ratios(4 if args.control else 3, f"Run of {ended:%Y-%m-%d %H:%M} UTC, commit {commit}",
                          pin_how=pin_how)
    if runs:
        below = [s for s in summary if s[3] == s[3] and s[3] < 1.0]
        def seen(s):
            return [r.get((s[0], s[1], s[2])) for _, r in runs]
        recur = [s for s in below if all(v is not None and v < 1.0 for v in seen(s))]
        above = [s for s in summary if s[3] == s[3] and s[3] >= 1.0
                 and all(v is not None and v >= 1.0 for v in seen(s))]
        if args.control:
            w(f"### The control's ratios below 1.00 beside our driver's last {len(runs)} committed runs")
            w("")
            w(f"Commits of our runs' BENCHMARKS.md, newest first: {', '.join(r for r, _ in runs)}. "
              f"Of the control's {len(below)} ratios below 1.00 (a copy of the in-tree driver "
              f"against itself), {len(recur)} were below 1.00 in every one of our runs too: "
              "where the setup puts any second driver behind; "
              f"{len(above)} metrics were at or above 1.00 in all of them and in the control.")
        else:
            w(f"### The ratios below 1.00 in the {len(runs)} committed runs before this one")
            w("")
            w(f"Commits of those runs' BENCHMARKS.md, newest first: {', '.join(r for r, _ in runs)} "
              "(each measured the driver of its time). Of this run's "
              f"{len(below)} ratios below 1.00, {len(recur)} were below 1.00 in every one of those "
              f"runs too; {len(above)} metrics were at or above 1.00 in all of them and in this one.")
        w("")
        w("| queue pairs | workload | metric | this run | earlier runs, newest first |")
        w("|---|---|---|---|---|")
        for s in below:
            prev = ", ".join("-" if v is None else f"{v:.2f}" for v in seen(s))
            w(f"| {s[0]} | {s[1]} | {s[2]} | {s[3]:.2f} | {prev} |")
        w("")

    # The committed control runs of the same setup (VNR_BENCH_CONTROL=1: the in-tree
    # driver against a copy of itself): how far behind this harness on this host
    # measured identical code, metric by metric; the lowest of them is the bar.
    ctl_file = "BENCHMARKS-control.md" if args.peer != "virtio_net" else "BENCHMARKS-control-intree-peer.md"
    ctl_runs = [] if args.control else earlier_ratios(5, path=ctl_file, pin_how=pin_how)
    if ctl_runs:
        def ctl_vals(s):
            return [r[s[:3]] for _, r in ctl_runs if s[:3] in r]
        below = [s for s in summary if s[3] == s[3] and s[3] < 1.0]
        inside = [s for s in below if ctl_vals(s) and s[3] >= min(ctl_vals(s))]
        beyond = [s for s in below if s not in inside]
        w(f"### The ratios below 1.00 beside the control ({ctl_file})")
        w("")
        w(f"{len(ctl_runs)} committed control run(s) (commits {', '.join(r for r, _ in ctl_runs)}) "
          "measured the in-tree driver against a copy of its own source in our driver's place, "
          "through this harness: identical code, so their ratios are how far this setup's noise and "
          f"bias alone move a ratio. Of this run's {len(below)} ratios below 1.00, {len(inside)} are no "
          "lower than the lowest control ratio for the same metric (identical code measured as far "
          f"behind or further); {len(beyond)} are lower" + (":" if beyond else "."))
        if beyond:
            w("")
            w("| queue pairs | workload | metric | this run | control runs | verdict | rounds ours ahead |")
            w("|---|---|---|---|---|---|---|")
            for s in beyond:
                q, wl, name, ratio, verdict, ahead, n = s
                c = ", ".join(f"{v:.2f}" for v in ctl_vals(s)) or "-"
                w(f"| {q} | {wl} | {name} | {ratio:.2f} | {c} | {verdict} | {ahead}/{n} |")
        w("")

    if not args.control:
        evidence(w, summary, runs, ctl_runs, insns_ratios(args.insns))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        for q, crow in charts:
            if not crow:
                continue
            fig, ax = plt.subplots(figsize=(10, 0.32 * len(crow) + 1.2))
            labels = [c[0] for c in crow][::-1]
            vals = [c[1] for c in crow][::-1]
            ax.barh(labels, vals, color=["tab:green" if v >= 1 else "tab:orange" for v in vals])
            ax.axvline(1.0, color="black", linewidth=1)
            ax.set_xlabel("ratio (above 1: ours better)")
            ax.set_title(f"virtio_net_rust vs virtio_net, {q} queue pair(s), medians")
            fig.tight_layout()
            png = os.path.join(args.results, f"ratios-q{q}.png")
            fig.savefig(png, dpi=90)
            plt.close(fig)
            w(f"Chart: `bench-results/ratios-q{q}.png` (not committed).")
    except ImportError:
        w("(no charts: matplotlib not installed)")

    open(args.out, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
