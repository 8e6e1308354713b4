#!/bin/bash
# `make bench`: our driver against the in-tree virtio_net, side by side in one guest.
#
# Builds the benchmark kernel (scripts/kernel.sh bench: the test kernel without its
# debug checks, cached) and our module against it (in a copy of the sources, so the
# test build in the tree is left alone), boots the guest VNR_BENCH_BOOTS times per
# queue-pair count (1, and 2 with mq=on), and runs qemu-test/guest/bench.sh there:
# rounds of every workload, both drivers back to back on each, swapping only the
# driver of the device under test. Then
# qemu-test/bench_report.py writes bench-results/report.md, PNG charts, and the
# committed BENCHMARKS.md.
#
#   VNR_BENCH_ROUNDS=6   measured rounds per driver
#   VNR_BENCH_BOOTS=2    guest boots per queue-pair count, each measuring its share of
#                        the rounds after a warm-up round of its own (1 s per workload):
#                        a boot's state (where the guest's pages and QEMU's threads
#                        landed) can favour one driver in all of that boot's rounds
#   VNR_BENCH_SECS=3     seconds per workload
#   VNR_BENCH_QUEUES="1 2"
#   VNR_BENCH_WORKLOADS=tcp1_tx,udp64_rx   (default: all)
#   VNR_BENCH_PERF=tcp1_rx   profile this workload in the last round (perf in the guest)
#   VNR_BENCH_PERF_SYM=lock_timer_base   with it, also print that function's callers
#   VNR_BENCH_TRACE=rr_udp_rx,rr_udp_tx   in the last round, split these request/response
#                            workloads' transactions into segments (tracepoints)
#   VNR_BENCH_INSNS_WORKLOADS=udp64_tx,rr_udp_rx   after the timed runs, count
#                            guest instructions per packet of these with a TCG plugin
#                            (qemu-test/insns), in a boot of its own per queue-pair
#                            count, with a profile by function; empty: skip;
#                            default: all workloads
#   VNR_BENCH_INSNS=1        diagnosis instead: only count instructions of the selected
#                            workloads (the plugin slows the guest: no BENCHMARKS.md);
#                            =tbs also profiles kernel and modules by function;
#                            =check fails (exit 1) if our driver executes more
#                            instructions per packet than the in-tree one on any of
#                            them, beyond VNR_BENCH_INSNS_TOL (0.03) on request/
#                            response and VNR_BENCH_INSNS_FLOOD_TOL (0.05) on the
#                            others (the count's run-to-run variation,
#                            docs/benchmarking.md); make test's check
#   VNR_BENCH_KERNEL=bench   the kernel variant (scripts/kernel.sh): "test" for make
#                            test's check, which has no benchmark kernel to build
#   VNR_BENCH_RESULTS=bench-results   where the results go
#   VNR_BENCH_PEER=copy      the peer NIC's driver: "copy" (default), the in-tree
#                            driver's source built as a module of its own
#                            (virtio_net_peer), so that neither DUT driver shares its
#                            code with the peer's; "intree": the in-tree module itself,
#                            which the in-tree DUT then shares (BENCHMARKS-control-intree-peer.md)
#   VNR_BENCH_PIN=1,0        the CPUs of the applications (iperf3 -A, taskset for sockperf):
#                            the DUT side's, then the peer side's; "none": where the
#                            scheduler puts them. Unpinned, TCP streams fell into one of
#                            two modes at random, both drivers alike (the peer's ACKs per
#                            data packet 0.2 or 0.4-0.7, about 1,900 or 835-1,500 Mbit/s
#                            in tcp1_tx), so that a run's ratio said more about which
#                            rounds fell into which mode than about the driver; 1,0 was
#                            the fastest placement for both drivers (docs/benchmarking.md)
#   VNR_BENCH_OURS_FIRST=1   load our module before the in-tree one (where each
#                            module's code lands; a placement check)
#   VNR_BENCH_CONTROL=1      control run: in our driver's place, the bench kernel's own
#                            drivers/net/virtio_net.c built as a module under our name
#                            (an A/A of the in-tree driver through the same harness:
#                            what it measures there is the setup, not our code)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
rounds=${VNR_BENCH_ROUNDS:-6}
secs=${VNR_BENCH_SECS:-3}
queues=${VNR_BENCH_QUEUES:-1 2}
boots=${VNR_BENCH_BOOTS:-2}
pin=${VNR_BENCH_PIN:-1,0}
# The guest has 2 vCPUs (qemu-test/vm.py).
if ! [[ "$pin" =~ ^([01],[01]|none)$ ]]; then
	echo "bench: VNR_BENCH_PIN ($pin) must be none or DUT,PEER with CPUs 0 or 1, e.g. 1,0" >&2
	exit 1
fi
if ! [ "$boots" -ge 1 ] 2>/dev/null || ! [ "$rounds" -ge 1 ] 2>/dev/null || [ $((rounds % boots)) != 0 ]; then
	echo "bench: VNR_BENCH_ROUNDS ($rounds) must be a positive multiple of VNR_BENCH_BOOTS ($boots)" >&2
	exit 1
fi
# Workload lists are comma-separated names the guest knows; anything else is refused
# here (a space-separated list reached the guest as its first name only).
known=" $(sed -n 's/^WORKLOADS="\(.*\)"$/\1/p' qemu-test/guest/bench.sh) "
for var in VNR_BENCH_WORKLOADS VNR_BENCH_PERF VNR_BENCH_TRACE VNR_BENCH_INSNS_WORKLOADS; do
	for w in $(echo "${!var:-}" | tr , ' '); do
		[ "$var" = VNR_BENCH_INSNS_WORKLOADS ] && [ "$w" = all ] && continue
		case "$known" in
		*" $w "*) ;;
		*) echo "bench: $var: unknown workload '$w' (comma-separated, of:${known% })" >&2; exit 1 ;;
		esac
	done
	case "${!var:-}" in
	*[[:space:]]*) echo "bench: $var: separate workloads with commas, not spaces" >&2; exit 1 ;;
	esac
done
res=${VNR_BENCH_RESULTS:-$root/bench-results}
variant=${VNR_BENCH_KERNEL:-bench}
t0=$(date +%s)

scripts/deps.sh
kdir=$(scripts/kernel.sh "$variant")
modroot="$(dirname "$kdir")/modroot"
echo "bench: kernel $kdir"

# Our module for the benchmark kernel, built from a copy of the sources.
ko=$(scripts/module-for.sh "$variant")
# intree_copy NAME: the bench kernel's own drivers/net/virtio_net.c built as a
# second module named NAME (its driver takes the module's name); prints the .ko.
intree_copy() {
	local dir="$root/qemu-test/out/copy-$1"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$kdir/source/drivers/net/virtio_net.c" "$dir/$1.c"
	# Its CPU-dead hotplug state is a fixed slot the in-tree module holds: a
	# dynamic one for the copy (same callbacks).
	sed -i -e 's/^static enum cpuhp_state virtionet_online;/&\nstatic enum cpuhp_state virtionet_dead;/' \
		-e 's/cpuhp_setup_state_multi(CPUHP_VIRT_NET_DEAD,/cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN,/' \
		-e 's/CPUHP_VIRT_NET_DEAD/virtionet_dead/g' "$dir/$1.c"
	perl -0pi -e 's/(NULL, virtnet_cpu_dead\);\n)\tif \(ret\)\n\t\tgoto err_dead;/$1\tif (ret < 0)\n\t\tgoto err_dead;\n\tvirtionet_dead = ret;/' \
		"$dir/$1.c"
	grep -q 'virtionet_dead = ret;' "$dir/$1.c" ||
		{ echo "bench: $1: the hotplug patch did not apply" >&2; return 1; }
	echo "obj-m := $1.o" > "$dir/Kbuild"
	make -s -C "$kdir" M="$dir" LLVM=1 modules > "$dir.log" 2>&1 ||
		{ tail -30 "$dir.log" >&2; echo "bench: $1 failed to build" >&2; return 1; }
	echo "$dir/$1.ko"
}
if [ "${VNR_BENCH_CONTROL:-0}" = 1 ]; then
	ko=$(intree_copy virtio_net_rust)
	echo "bench: CONTROL run: the in-tree driver's source in our driver's place ($ko)"
fi
peer=virtio_net
case "${VNR_BENCH_PEER:-copy}" in
copy)
	peer=virtio_net_peer
	export VNR_INITRAMFS_MODULES
	VNR_INITRAMFS_MODULES=$(intree_copy $peer)
	;;
intree) ;;
*) echo "bench: VNR_BENCH_PEER must be copy or intree"; exit 1 ;;
esac
echo "bench: peer NIC driver $peer"

rm -rf "$res"
mkdir -p "$res"
initrd="$res/initramfs.cpio.gz"
[ -n "${VNR_BENCH_PERF:-}${VNR_BENCH_TRACE:-}" ] && export VNR_INITRAMFS_PERF=1
insns=${VNR_BENCH_INSNS:-0}
insns_wl=${VNR_BENCH_INSNS_WORKLOADS-all}
# The instruction marker costs nothing without the plugin: always in the image.
export VNR_INITRAMFS_INSNS=1
gcc -shared -fPIC -O2 -Wall -fvisibility=hidden -o "$res/insns.so" qemu-test/insns/insns.c
qemu-test/mkinitramfs.sh "$initrd" "$modroot" "$ko"

# Module sizes as the kernel loads them (sections text, data, bss).
intree=$(find "$modroot" -path '*/kernel/drivers/net/virtio_net.ko' | head -1)
size "$ko" "$intree" > "$res/sizes.txt"

# run_guest DIR Q [vm.py args]: boots the bench guest with Q queue pairs; its output
# goes to DIR/out-qQ.txt and its measurements to DIR/raw-qQ.txt.
run_guest() {
	local dir=$1 q=$2 pid rc=0
	shift 2
	mkdir -p "$dir"
	qemu-test/vm.py --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$initrd" --mode bench \
		--queues "$q" "$@" --quiet-kernel --log "$dir/console-q$q.log" --timeout 3000 \
		> "$dir/out-q$q.txt" 2>&1 &
	pid=$!
	tail -n +1 -f --pid=$pid "$dir/out-q$q.txt" | grep --line-buffered -E '^# (bench|perf|trace)' &
	wait $pid || rc=$?
	wait
	# Each measurement with QEMU's host CPU time over its window, from the host's
	# @@Q notes at the guest's marks (qcpu_from/qcpu_to; qemu-test/vm.py).
	awk -v q="$q" '
		# @@Q mark=N key_ns=V ...: remember each time by mark and key.
		/^@@Q / { split($2, m, "=")
			  for (i = 3; i <= NF; i++) { split($i, kv, "="); ns[m[2], kv[1]] = kv[2]; keys[kv[1]] = 1 }
			  next }
		/^@@B / { line = $0; sub(/^@@B /, "q=" q " ", line); f = t = ""
			  for (i = 2; i <= NF; i++) {
				  if ($i ~ /^qcpu_from=/) f = substr($i, 11)
				  if ($i ~ /^qcpu_to=/) t = substr($i, 9)
			  }
			  for (k in keys)
				  if (((f, k) in ns) && ((t, k) in ns))
					  line = line sprintf(" %s_s=%.4f", substr(k, 1, length(k) - 3),
						  (ns[t, k] - ns[f, k]) / 1e9)
			  print line }' "$dir/out-q$q.txt" > "$dir/raw-q$q.txt" || true
	[ "$rc" = 0 ] || { echo "bench: guest failed (rc=$rc), see $dir/console-q$q.log"; tail -20 "$dir/out-q$q.txt"; exit 1; }
}

extra=(--guest-arg "peer=$peer")
[ -n "${VNR_BENCH_WORKLOADS:-}" ] && extra+=(--guest-arg "workloads=$VNR_BENCH_WORKLOADS")
[ "${VNR_BENCH_OURS_FIRST:-0}" = 1 ] && extra+=(--guest-arg "ours_first=1")
[ -n "${VNR_BENCH_PERF:-}" ] && extra+=(--guest-arg "perf=$VNR_BENCH_PERF")
[ -n "${VNR_BENCH_PERF_SYM:-}" ] && extra+=(--guest-arg "perfsym=$VNR_BENCH_PERF_SYM")
[ -n "${VNR_BENCH_TRACE:-}" ] && extra+=(--guest-arg "trace=$VNR_BENCH_TRACE")
[ "$pin" != none ] && extra+=(--guest-arg "pin=$pin")
if [ "$insns" != 0 ]; then
	# Diagnosis only: instruction counts (=tbs: and a profile by function) of the
	# selected workloads; timings under the plugin are not comparable with a plain
	# run, so no BENCHMARKS.md.
	plugin="$res/insns.so"
	[ "$insns" = tbs ] && plugin="$res/insns.so,tbs=on"
	case "$insns" in 1 | tbs | check) ;; *) echo "bench: VNR_BENCH_INSNS must be 1, tbs or check" >&2; exit 1 ;; esac
	for q in $queues; do
		echo "bench: $q queue pair(s), $rounds rounds + warm-up, $secs s per workload, counting instructions"
		run_guest "$res" "$q" --guest-arg "rounds=$rounds" --guest-arg "secs=$secs" "${extra[@]}" \
			--guest-arg "insns=${insns/check/1}" --plugin "$plugin" --plugin-log "$res/insns-q$q.log"
	done
	rm -f "$initrd"
	python3 qemu-test/insns/report.py "$res" | tee "$res/insns.md"
	echo "bench: took $(( $(date +%s) - t0 )) s; report in $res/insns.md"
	[ "$insns" = check ] || exit 0
	exec python3 qemu-test/insns/check.py "$res/insns.md" "${VNR_BENCH_INSNS_TOL:-0.03}" \
		"${VNR_BENCH_INSNS_FLOOD_TOL:-0.05}"
fi
per=$((rounds / boots))
for q in $queues; do
	for b in $(seq 1 $boots); do
		echo "bench: $q queue pair(s), boot $b of $boots: rounds $(( (b - 1) * per + 1 ))-$((b * per)) + warm-up, $secs s per workload"
		run_guest "$res/boot$b" "$q" --guest-arg "rounds=$((b * per))" \
			--guest-arg "from=$(( (b - 1) * per + 1 ))" --guest-arg "secs=$secs" "${extra[@]}"
		sed "s/^/boot=$b /" "$res/boot$b/raw-q$q.txt" >> "$res/raw-q$q.txt"
	done
done
# Guest instructions per packet: deterministic, unlike the timings on a loaded
# TCG host; one measured round per driver, in a boot of its own per queue-pair
# count, with a profile by function.
if [ -n "$insns_wl" ]; then
	wlarg=()
	[ "$insns_wl" != all ] && wlarg=(--guest-arg "workloads=$insns_wl")
	for q in $queues; do
		echo "bench: instructions per packet ($insns_wl), $q queue pair(s), 1 round + warm-up"
		run_guest "$res/insns" "$q" --guest-arg "rounds=1" --guest-arg "secs=$secs" --guest-arg "peer=$peer" \
			"${wlarg[@]}" --guest-arg "insns=tbs" \
			--plugin "$res/insns.so,tbs=on" --plugin-log "$res/insns/insns-q$q.log"
	done
fi
rm -f "$initrd"

python3 -c 'import matplotlib' 2>/dev/null || pip install --quiet matplotlib >/dev/null 2>&1 ||
	echo "bench: matplotlib unavailable, no charts"
ctlflag=()
[ "${VNR_BENCH_CONTROL:-0}" = 1 ] && ctlflag=(--control)
insnsflag=()
if [ -n "$insns_wl" ]; then
	python3 qemu-test/insns/report.py "$res/insns" > "$res/insns.md"
	insnsflag=(--insns "$res/insns.md")
fi
python3 qemu-test/bench_report.py --results "$res" --rounds "$rounds" --secs "$secs" \
	--kernel "$kdir" --peer "$peer" --pin "$pin" --out "$res/report.md" "${ctlflag[@]}" \
	"${insnsflag[@]}"
# A control run is not a run of our driver: its own file.
report=BENCHMARKS.md
if [ "${VNR_BENCH_CONTROL:-0}" = 1 ]; then
	report=BENCHMARKS-control.md
	[ "$peer" = virtio_net ] && report=BENCHMARKS-control-intree-peer.md
fi
cp "$res/report.md" "$report"
echo "bench: took $(( $(date +%s) - t0 )) s; report in $report and $res/"
