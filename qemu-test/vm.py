#!/usr/bin/env python3
"""Boots the test guest in QEMU with two virtio-net-pci NICs back to back.

The NICs sit on tap devices bridged inside a private network namespace that this
script creates (`unshare --net`): no host address, route or interface is touched,
and no guest traffic can leave. NIC "dut" (PCI 00:04.0) is the device under test,
NIC "peer" (PCI 00:05.0) runs the in-tree virtio_net inside a guest netns.

The guest's console is read line by line: `@@HOST <monitor command>@@` lines are
run on the QEMU monitor (e.g. `set_link dut off`), `@@DONE rc=N@@` ends the run.
With --liar, the device under test is the lying vhost-user device (qemu-test/liar)
and `@@LIAR <request>@@` lines go to its control socket.
Kernel lines are checked for WARN/BUG/oops/lockdep splats.
"""
import argparse
import collections
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SPLAT = re.compile(
    r"WARNING:|BUG:|Oops|general protection|Kernel panic|possible recursive locking|"
    r"possible circular locking|inconsistent lock state|KASAN|UBSAN|refcount_t:|"
    r"list_add corruption|list_del corruption|sleeping function called from invalid context|"
    r"NOHZ tick-stop error|soft lockup|hung_task|self-detected stall"
)
KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\]")


def kvm_usable():
    """KVM only when asked for (VNR_KVM=1): /dev/kvm opens here but guests die."""
    return os.environ.get("VNR_KVM") == "1" and os.access("/dev/kvm", os.R_OK | os.W_OK)


def qemu_cmd(args, mon, liar_sock):
    accel = ["-accel", "kvm", "-cpu", "host"] if kvm_usable() else ["-accel", "tcg,thread=multi", "-cpu", "max"]
    append = [
        "console=ttyS0", "printk.time=1", "panic=-1", "rdinit=/init",
        f"vnr.mode={args.mode}", f"vnr.dut={args.dut_driver}",
        # The device under test's queue pairs, for the guest's checks of them.
        f"vnr.pairs={args.queues}",
    ]
    if args.only:
        append.append(f"vnr.only={args.only}")
    append += [f"vnr.{a}" for a in args.guest_arg]
    if args.failover:
        # The guest's `failover` test then fails, not skips, without a master.
        append.append("vnr.failover=1")
    append += args.append
    queues = args.queues
    mq = f",mq=on,vectors={2 * queues + 2}" if queues > 1 else ""
    tapq = ",queues=%d" % queues if queues > 1 else ""
    dut_mq = mq
    if liar_sock:
        # vhost-user: the backend maps guest memory, so it must be a shared memfd.
        dut_netdev = [
            "-object", f"memory-backend-memfd,id=mem,size={args.mem},share=on", "-numa", "node,memdev=mem",
            "-chardev", f"socket,id=liar,path={liar_sock}", "-netdev", "vhost-user,id=n0,chardev=liar",
        ]
        # INTx, not MSI-X: QEMU 7.2 under TCG (no irqfd) segfaults in
        # msix_set_vector_notifiers -> virtio_pci_vector_unmask when a vhost-user
        # net device starts with MSI-X enabled (NULL+0x28, seen every time here).
        dut_mq = ",vectors=0"
        # INTx is routed by ACPI's _PRT, whose AML loop (i440fx: 128 entries) runs
        # past ACPICA's 30 s loop timeout under the debug kernel on TCG
        # (AE_AML_LOOP_TIMEOUT, "PCI INT A: no GSI": the DUT then never gets an
        # interrupt). The BIOS's PIRQ table routes it without AML.
        append.append("pci=noacpi")
    else:
        dut_netdev = ["-netdev", f"tap,id=n0,ifname=tap0,script=no,downscript=no{tapq}"]
    cmd = [
        "qemu-system-x86_64", *accel, "-smp", str(args.smp), "-m", args.mem,
        "-nographic", "-no-reboot", "-nodefaults",
        "-kernel", args.kernel, "-initrd", args.initrd, "-append", " ".join(append),
        *dut_netdev,
        "-device", f"virtio-net-pci,netdev=n0,id=dut,mac=52:54:00:12:34:01,addr=0x4,romfile={dut_mq}{args.dut_props}",
        "-netdev", f"tap,id=n1,ifname=tap1,script=no,downscript=no{tapq}",
        "-device", f"virtio-net-pci,netdev=n1,id=peer,mac=52:54:00:12:34:02,addr=0x5,romfile={mq}",
    ]
    if args.failover:
        # A failover pair (virtio-net STANDBY, net_failover in the guest): QEMU wants
        # the primary, a NIC with the DUT's MAC, on a PCIe root port (q35). The guest
        # plugs it (`device_add ...,failover_pair_id=dut` on the monitor): a primary
        # given on the command line cannot be plugged back after `device_del` in
        # QEMU 7.2 (its command-line options keep the id: "Duplicate ID").
        cmd += ["-machine", "q35",
                "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x6",
                "-netdev", "tap,id=n2,ifname=tap2,script=no,downscript=no"]
        dut = cmd.index(next(a for a in cmd if a.startswith("virtio-net-pci,netdev=n0,")))
        cmd[dut] += ",failover=on"
    if args.plugin:
        # A TCG plugin (e.g. qemu-test/insns) and its log.
        cmd += ["-plugin", args.plugin, "-d", "plugin", "-D", args.plugin_log]
    # Named threads ("CPU 0/TCG", ...), so QEMU's host CPU time can be split between
    # the vCPUs and the device emulation / I/O threads (qemu_cpu, the insns plugin).
    cmd += ["-name", "vnr,debug-threads=on"]
    if args.mode == "shell":
        cmd += ["-serial", "mon:stdio"]
    else:
        cmd += ["-serial", "stdio", "-monitor", f"unix:{mon},server=on,wait=off"]
    return cmd


def netns_wrapper(qemu, queues, failover=False):
    """Runs QEMU inside a new network namespace with tap0/tap1 (and tap2, the
    failover primary's) on a bridge."""
    mq = " multi_queue" if queues > 1 else ""
    taps = [f"ip tuntap add dev tap0 mode tap{mq}", f"ip tuntap add dev tap1 mode tap{mq}"]
    names = ["tap0", "tap1"]
    if failover:
        taps.append("ip tuntap add dev tap2 mode tap")
        names.append("tap2")
    setup = "; ".join([
        "set -e",
        "ip link set lo up",
        # No IPv6 on the host side: the bridge would send router solicitations and
        # MLD reports to the guests, frames no test sent (xskxceiver checks each one).
        "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6",
        "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6",
        "ip link add br0 type bridge",
        "ip link set br0 up",
        *taps,
        # Jumbo frames must cross the bridge: the taps' MTU bounds what it forwards.
        *[f"ip link set {t} mtu 65521" for t in names],
        *[f"ip link set {t} master br0" for t in names],
        *[f"ip link set {t} up" for t in names],
        'exec "$@"',
    ])
    return ["unshare", "--net", "--", "sh", "-c", setup, "vm"] + qemu


def qemu_cpu(pid):
    """QEMU's host CPU time so far, in ns, by thread kind: "host_vcpuN_ns" for each
    vCPU thread ("CPU N/TCG", from schedstat), "host_vcpu_ns" their sum, and
    "host_other_ns" the rest (device emulation, tap I/O: the process's user and
    system time, which keeps that of exited threads, minus the vCPUs'; known to a
    clock tick, 10 ms at USER_HZ 100, so a few per cent of a 3 s window's share)."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                m = re.match(r"CPU (\d+)/", f.read())
            if not m:
                continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                times[f"host_vcpu{m.group(1)}_ns"] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that exited meanwhile
    with open(f"/proc/{pid}/stat") as f:
        # Fields after the command name (which may hold spaces): utime is the 14th
        # field of the line, stime the 15th, in clock ticks.
        fields = f.read().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) * 10**9 // os.sysconf("SC_CLK_TCK")
    times["host_vcpu_ns"] = sum(times.values())
    times["host_other_ns"] = max(total - times["host_vcpu_ns"], 0)
    return times


def monitor(path, command):
    for _ in range(50):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    else:
        return "monitor unreachable"
    s.settimeout(5)
    try:
        s.recv(4096)  # greeting
        s.sendall((command + "\n").encode())
        # The monitor echoes the command with line-editing escapes, then prints its
        # output and a new prompt: read up to that prompt, keep the output.
        data = b""
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n" in data and data.endswith(b"(qemu) "):
                break
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", data.decode(errors="replace"))
        return text.split("\r\n", 1)[1].rsplit("(qemu)", 1)[0] if "\r\n" in text else text
    except OSError as e:
        return str(e)
    finally:
        s.close()


def liar_request(path, request):
    """One request to the lying device's control socket; returns its reply line."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(path)
            s.sendall((request + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.decode(errors="replace").strip()
    except OSError as e:
        return f"error: {e}"


def config_storm(mon, n):
    """n link flaps on the monitor as fast as it takes them: config interrupts."""
    for _ in range(n):
        monitor(mon, "set_link dut off")
        monitor(mon, "set_link dut on")
    return f"ok {n} flaps"


def start_liar(binary, tmp):
    """Starts the lying vhost-user device; returns (process, vhost-user socket, control socket)."""
    sock, ctl = os.path.join(tmp, "liar.sock"), os.path.join(tmp, "liar.ctl")
    proc = subprocess.Popen([binary, "--socket", sock, "--ctl", ctl], stdin=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock) and os.path.exists(ctl):
            return proc, sock, ctl
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"# vm: the lying device did not start ({binary})")


def load_symbols(kernel):
    """Text symbols from the System.map next to the kernel build, sorted."""
    path = os.path.join(os.path.dirname(kernel), "..", "..", "..", "System.map")
    syms = []
    try:
        with open(path) as f:
            for line in f:
                addr, kind, name = line.split()[:3]
                if kind in "tT":
                    syms.append((int(addr, 16), name))
    except OSError:
        pass
    syms.sort()
    return syms


def symbolize(syms, addr):
    import bisect
    i = bisect.bisect_right(syms, (addr, "~")) - 1
    if i < 0 or addr - syms[i][0] > 0x100000:
        return "(module or unknown)"
    return f"{syms[i][1]}+{addr - syms[i][0]:#x}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--mode", choices=["tests", "demo", "bench", "kselftest", "faults", "liar", "shell"], default="tests")
    ap.add_argument("--dut-driver", default="virtio_net_rust")
    ap.add_argument("--dut-props", default="", help="extra virtio-net-pci properties, e.g. ',mrg_rxbuf=off'")
    ap.add_argument("--failover", action="store_true",
                    help="q35 guest; the DUT is a standby (failover=on), a root port for its primary")
    ap.add_argument("--queues", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated test names")
    ap.add_argument("--guest-arg", action="append", default=[], metavar="KEY=VAL",
                    help="passed to the guest scripts as vnr.KEY=VAL, e.g. blob_mb=32")
    ap.add_argument("--append", action="append", default=[], metavar="PARAM",
                    help="extra kernel command-line parameter, e.g. watchdog_thresh=60")
    ap.add_argument("--liar", default=None, metavar="BINARY",
                    help="the device under test is this lying vhost-user device (qemu-test/liar)")
    ap.add_argument("--plugin", default=None, help="TCG plugin (.so) to load")
    ap.add_argument("--plugin-log", default="/dev/null", help="where the plugin's output goes")
    ap.add_argument("--mem", default="2G")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=1200)
    ap.add_argument("--log", default=None, help="full console log")
    ap.add_argument("--quiet-kernel", action="store_true", help="do not echo kernel lines")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="vnr-vm-")
    mon = os.path.join(tmp, "mon.sock")
    liar = liar_sock = liar_ctl = None
    if args.liar:
        liar, liar_sock, liar_ctl = start_liar(args.liar, tmp)
    cmd = netns_wrapper(qemu_cmd(args, mon, liar_sock), args.queues, args.failover)
    if args.mode == "shell":
        sys.exit(subprocess.call(cmd))

    log = open(args.log, "w") if args.log else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    def on_timeout():
        # Say where each vCPU is before killing a hung guest.
        print("# vm: timeout; vCPU state:", flush=True)
        regs = monitor(mon, "info registers -a")
        symbols = load_symbols(args.kernel)
        for m in re.finditer(r"RIP=([0-9a-f]{16})", regs):
            print(f"#   RIP {m.group(1)} {symbolize(symbols, int(m.group(1), 16))}", flush=True)
        # Ring indices of the device under test: who is waiting for whom.
        for nic, nq in (("dut", 2 * args.queues), ("peer", 2)):
            for q in range(nq):
                st = monitor(mon, f"info virtio-queue-status /machine/peripheral/{nic}/virtio-backend {q}")
                keep = [l.strip() for l in st.splitlines() if re.search(r"inuse|_idx|signalled", l)]
                print(f"#   {nic} vq{q}: {' '.join(keep)}", flush=True)
        proc.kill()

    timer = threading.Timer(args.timeout, on_timeout)
    timer.start()
    rc = None
    splats = []
    # The kernel lines after the first splat (its call trace), and the guest's
    # last own line before it (which test ran), so a CI log says what broke.
    trace, trace_left, guest_last = [], 0, ""
    # The guest's last console lines, shown if it does not finish.
    last = collections.deque(maxlen=40)
    start = time.time()
    try:
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if log:
                log.write(line + "\n")
                log.flush()
            m = re.search(r"@@HOST (.*)@@", line)
            if m:
                out = monitor(mon, m.group(1))
                # An error is a line or two, the last of which may be only a hint.
                said = " | ".join(out.strip().splitlines()[-3:]) if out.strip() else "ok"
                print(f"# host: {m.group(1)}: {said}", flush=True)
                continue
            m = re.search(r"@@LIAR (.*)@@", line)
            if m and liar_ctl:
                req = m.group(1).split()
                if req[:1] == ["config_storm"]:
                    out = config_storm(mon, int(req[1]))
                else:
                    out = liar_request(liar_ctl, m.group(1))
                print(f"# liar: {m.group(1)}: {out}", flush=True)
                continue
            m = re.search(r"@@QCPU (\d+)@@", line)
            if m:
                # The guest marks a measurement window's edge: note QEMU's CPU time.
                try:
                    times = " ".join(f"{k}={v}" for k, v in sorted(qemu_cpu(proc.pid).items()))
                    print(f"@@Q mark={m.group(1)} {times}", flush=True)
                except OSError:
                    pass
                continue
            m = re.search(r"@@DONE rc=(\d+)@@", line)
            if m:
                rc = int(m.group(1))
                continue
            last.append(line)
            is_kernel = bool(KERNEL_LINE.match(line))
            if is_kernel and trace_left > 0:
                trace.append(line)
                trace_left -= 1
            if is_kernel and SPLAT.search(line):
                if not splats:
                    trace, trace_left = [f"after guest line: {guest_last}"], 16
                splats.append(line)
            elif not is_kernel and line.strip():
                guest_last = line
            if not (is_kernel and args.quiet_kernel):
                print(line, flush=True)
    finally:
        timer.cancel()
        proc.wait()
        if liar:
            try:
                liar.wait(timeout=10)
            except subprocess.TimeoutExpired:
                liar.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.time() - start
    print(f"# vm: guest finished in {elapsed:.0f} s, rc={rc}", flush=True)
    if splats:
        print("# vm: kernel log has splats:", flush=True)
        for s in splats:
            print("#   " + s, flush=True)
        for t in trace:
            print("#   trace: " + t, flush=True)
    if rc is None:
        print("# vm: guest did not finish (timeout or crash); its last console lines:", flush=True)
        for line in last:
            print("#   console: " + line, flush=True)
        sys.exit(3)
    # Exit 2 when the kernel log shows a splat, whatever the guest said.
    sys.exit(2 if splats else rc)


if __name__ == "__main__":
    main()
