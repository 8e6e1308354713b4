#!/usr/bin/env python3
"""Guest instructions per packet, per workload and driver, from a `make bench` run
with VNR_BENCH_INSNS=1: pairs the plugin's marks (insns-qN.log) with the
measurements (out-qN.txt, insns_from/insns_to) and prints a markdown table.

Instructions are counted for the whole guest (both NICs' sides, every CPU) over
each measurement, divided by the DUT's packets (sent + received); module-space
ones are attributed to modules by their text addresses. With the peer NIC on the
in-tree module itself (VNR_BENCH_PEER=intree), an in-tree DUT shares that module
with the peer, whose share is estimated from our run; with the peer on its own
copy (virtio_net_peer, the default), each module's count is one NIC's.
"""
import bisect
import collections
import glob
import os
import re
import statistics
import sys


def parse_log(path):
    totals, pages, host = {}, collections.defaultdict(dict), {}
    tbs = collections.defaultdict(collections.Counter)
    for line in open(path, errors="replace"):
        m = re.match(r"insns mark=(\d+) tb=0x([0-9a-f]+) count=(\d+)", line)
        if m:
            tbs[int(m[1])][int(m[2], 16)] += int(m[3])
            continue
        m = re.match(r"insns mark=(\d+) user=(\d+) kernel=(\d+) module=(\d+)"
                     r"(?: blocks=(\d+))?(?: trans=(\d+))?", line)
        if m:
            totals[int(m[1])] = tuple(int(x or 0) for x in m.groups()[1:])
            continue
        m = re.match(r"insns mark=(\d+) host_vcpu_us=(\d+) host_other_us=(\d+)", line)
        if m:
            host[int(m[1])] = (int(m[2]), int(m[3]))
            continue
        m = re.match(r"insns mark=(\d+) page=0x([0-9a-f]+) count=(\d+)", line)
        if m:
            pages[int(m[1])][int(m[2], 16)] = int(m[3])
    return totals, pages, tbs, host


def module_of(mods, page):
    best = None
    for addr, name in mods:
        if addr <= page and (best is None or addr > best[0]):
            best = (addr, name)
    return best[1] if best else "?"


# Functions listed per profile, largest differences first (VNR_INSNS_TOP).
TOP = int(os.environ.get("VNR_INSNS_TOP", "40"))


def main(res):
    rows = collections.defaultdict(list)
    prof = collections.defaultdict(list)
    names = set()
    for out in sorted(glob.glob(os.path.join(res, "out-q*.txt"))):
        q = re.search(r"out-q(\d+)", out)[1]
        log = os.path.join(res, f"insns-q{q}.log")
        if not os.path.exists(log):
            continue
        totals, pages, tbs, host = parse_log(log)
        mods, syms = [], []
        for line in open(out, errors="replace"):
            m = re.match(r"@@MOD name=(\S+) addr=0x([0-9a-f]+)", line)
            if m and int(m[2], 16):
                mods.append((int(m[2], 16), m[1]))
            m = re.match(r"@@SYM ([0-9a-f]+) (\S+)(?: \[(\S+)\])?", line)
            if m and int(m[1], 16):
                syms.append((int(m[1], 16), m[2] + (f" [{m[3]}]" if m[3] else "")))
        syms.sort()
        addrs = [a for a, _ in syms]
        for line in open(out, errors="replace"):
            if not line.startswith("@@B "):
                continue
            kv = dict(re.findall(r"(\w+)=(\S+)", line))
            if "insns_from" not in kv or kv.get("round") == "0":
                continue
            a, b = int(kv["insns_from"]), int(kv["insns_to"])
            if a not in totals or b not in totals:
                continue
            pkts = int(kv.get("dut_tx_pkts", 0)) + int(kv.get("dut_rx_pkts", 0))
            if pkts <= 0:
                continue
            d = [y - x for x, y in zip(totals[a], totals[b])]
            permod = collections.Counter()
            for page, c in pages[b].items():
                permod[module_of(mods, page)] += c - pages[a].get(page, 0)
            names.update(permod)
            r = {"user": d[0] / pkts, "kernel": d[1] / pkts, "module": d[2] / pkts,
                 "blocks": d[3] / pkts, "trans": d[4] * 1000 / pkts}
            if a in host and b in host:
                r["qemu_vcpu"] = (host[b][0] - host[a][0]) / pkts
                r["qemu_other"] = (host[b][1] - host[a][1]) / pkts
            d = d[:3]
            r.update({f"mod:{k}": v / pkts for k, v in permod.items()})
            r["total"] = sum(d) / pkts
            # Per KiB too: a stream's packets are GSO packets whose size follows
            # timing (16-41 KB seen between rounds), and most of a stream's guest
            # work (copies, checksums, ACKs per byte) scales with bytes.
            nbytes = int(kv.get("dut_tx_bytes", 0)) + int(kv.get("dut_rx_bytes", 0))
            r["total_kib"] = sum(d) * 1024 / nbytes if nbytes > 0 else 0.0
            r["peer"] = (int(kv.get("peer_tx_pkts", 0)) + int(kv.get("peer_rx_pkts", 0))) / pkts
            rows[(q, kv["wl"], kv["drv"])].append(r)
            if syms and tbs[b]:
                per = collections.Counter()
                for va, c in tbs[b].items():
                    c -= tbs[a].get(va, 0)
                    i = bisect.bisect_right(addrs, va) - 1
                    per[syms[i][1] if i >= 0 else hex(va)] += c
                prof[(q, kv["wl"], kv["drv"])].append({k: v / pkts for k, v in per.items()})
    mods = sorted(n for n in names)
    cols = ["total", "user", "kernel"] + [f"mod:{m}" for m in mods]
    print("Guest instructions per DUT packet (median over rounds; whole guest, both NICs):\n")
    # Last column: blocks translated per 1,000 DUT packets (code cache misses, each
    # far dearer than running a block; see insns.c).
    # Then QEMU's host CPU time per packet, us: its vCPU threads, and the rest
    # (device emulation, tap I/O), which no guest-side count sees. With the plugin
    # the vCPUs run slower than without; the rest does not.
    print("| queues | workload | driver | " + " | ".join(c.replace("mod:", "") for c in cols)
          + " | translated per 1k pkts | QEMU vCPU us/pkt | QEMU other us/pkt |")
    print("|---" * (6 + len(cols)) + "|")
    for (q, wl, drv), rs in sorted(rows.items()):
        cells = []
        for c in cols + ["trans", "qemu_vcpu", "qemu_other"]:
            vals = [r.get(c, 0.0) for r in rs]
            cells.append(f"{statistics.median(vals):,.{0 if c in cols else 1}f}")
        print(f"| {q} | {wl} | {drv} | " + " | ".join(cells) + " |")
    # The DUT's driver alone: our module; for the in-tree driver, its module's count
    # less the peer's share, estimated from our run (where virtio_net is the peer's
    # only) per packet the peer sent or received: the two runs may drop differently.
    med = {k: {c: statistics.median(r.get(c, 0.0) for r in rs)
               for c in cols + ["peer", "blocks", "total_kib"]}
           for k, rs in rows.items()}
    print("\nThe DUT's driver (module code, incl. our C helpers) and the whole guest, "
          "instructions per DUT packet, the whole guest's per KiB the DUT sent and received, "
          "and the translated blocks the guest ran per packet:\n")
    print("| queues | workload | driver ours | driver in-tree | ratio | guest ours | guest in-tree | ratio "
          "| guest/KiB ours | guest/KiB in-tree | ratio | blocks ours | blocks in-tree | ratio |")
    print("|---" * 14 + "|")
    for q, wl in sorted({(q, wl) for q, wl, _ in med}):
        a, b = med.get((q, wl, "virtio_net_rust")), med.get((q, wl, "virtio_net"))
        if not a or not b:
            continue
        da = a.get("mod:virtio_net_rust", 0.0)
        if "mod:virtio_net_peer" in cols:
            # The peer ran a copy of the in-tree driver: virtio_net is the DUT's alone.
            db = b.get("mod:virtio_net", 0.0)
        else:
            per_peer_pkt = a.get("mod:virtio_net", 0.0) / a["peer"] if a["peer"] else 0.0
            db = b.get("mod:virtio_net", 0.0) - per_peer_pkt * b["peer"]
        ratio = lambda x, y: f"{y / x:.2f}" if x > 0 and y > 0 else "-"
        print(f"| {q} | {wl} | {da:,.0f} | {db:,.0f} | {ratio(da, db)} | "
              f"{a['total']:,.0f} | {b['total']:,.0f} | {ratio(a['total'], b['total'])} | "
              f"{a['total_kib']:,.0f} | {b['total_kib']:,.0f} | {ratio(a['total_kib'], b['total_kib'])} | "
              f"{a['blocks']:,.0f} | {b['blocks']:,.0f} | {ratio(a['blocks'], b['blocks'])} |")
    # AF_XDP zero-copy, which only ours has, against copy mode (ours; in-tree's copy
    # mode beside it): the driver's and the whole guest's instructions per frame.
    xsk = [(q, d) for q, d in sorted({(q, wl.rsplit("_", 1)[1]) for q, wl, _ in med
                                      if wl.startswith("xsk_zc_")})]
    if xsk:
        print("\nAF_XDP, instructions per frame: zero-copy (ours only) against copy mode "
              "(driver: the DUT driver's module; guest: the whole guest):\n")
        print("| queues | direction | driver zc ours | driver copy ours | copy/zc | driver copy in-tree "
              "| guest zc ours | guest copy ours | copy/zc | guest copy in-tree |")
        print("|---" * 10 + "|")
        for q, d in xsk:
            z = med.get((q, f"xsk_zc_{d}", "virtio_net_rust"), {})
            c = med.get((q, f"xsk_copy_{d}", "virtio_net_rust"), {})
            i = med.get((q, f"xsk_copy_{d}", "virtio_net"), {})
            dz, dc = z.get("mod:virtio_net_rust", 0.0), c.get("mod:virtio_net_rust", 0.0)
            gz, gc = z.get("total", 0.0), c.get("total", 0.0)
            # As above: the in-tree module's count less the peer's share.
            di = i.get("mod:virtio_net", 0.0)
            if "mod:virtio_net_peer" not in cols and c.get("peer") and i:
                di -= c.get("mod:virtio_net", 0.0) / c["peer"] * i["peer"]
            ratio = lambda x, y: f"{y / x:.2f}" if x > 0 and y > 0 else "-"
            print(f"| {q} | {d} | {dz:,.0f} | {dc:,.0f} | {ratio(dz, dc)} | {di:,.0f} | "
                  f"{gz:,.0f} | {gc:,.0f} | {ratio(gz, gc)} | {i.get('total', 0.0):,.0f} |")
    # Profile by symbol: mean over rounds, the functions whose instructions per
    # packet differ most between the two drivers.
    for q, wl in sorted({(q, wl) for q, wl, _ in prof}):
        mean = {}
        for drv in ("virtio_net_rust", "virtio_net"):
            rs = prof.get((q, wl, drv), [])
            acc = collections.Counter()
            for r in rs:
                acc.update(r)
            mean[drv] = {k: v / len(rs) for k, v in acc.items()} if rs else {}
        a, b = mean["virtio_net_rust"], mean["virtio_net"]
        keys = sorted(set(a) | set(b), key=lambda k: -abs(a.get(k, 0) - b.get(k, 0)))
        print(f"\n{wl}, {q} queue pair(s): kernel and module instructions per DUT packet "
              f"by function, largest differences first (ours {sum(a.values()):,.0f}, "
              f"in-tree {sum(b.values()):,.0f}):\n")
        print("| function | ours | in-tree | difference |")
        print("|---|---|---|---|")
        for k in keys[:TOP]:
            x, y = a.get(k, 0), b.get(k, 0)
            print(f"| `{k}` | {x:,.1f} | {y:,.1f} | {x - y:+,.1f} |")


if __name__ == "__main__":
    main(sys.argv[1])
