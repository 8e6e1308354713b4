#!/bin/bash
# `make bench`: our driver against the in-tree virtio_net, side by side in one guest.
#
# Builds the benchmark kernel (scripts/kernel.sh bench: the test kernel without its
# debug checks, cached) and our module against it (in a copy of the sources, so the
# test build in the tree is left alone), boots the guest once per queue-pair count
# (1, and 2 with mq=on), and runs qemu-test/guest/bench.sh there: A/B, B/A, A/B... rounds of
# every workload, swapping only the driver of the device under test. Then
# qemu-test/bench_report.py writes bench-results/report.md, PNG charts, and the
# committed BENCHMARKS.md.
#
#   VNR_BENCH_ROUNDS=5   measured rounds per driver (plus one warm-up round)
#   VNR_BENCH_SECS=3     seconds per workload
#   VNR_BENCH_QUEUES="1 2"
#   VNR_BENCH_WORKLOADS=tcp1_tx,udp64_rx   (default: all)
#   VNR_BENCH_PERF=tcp1_rx   profile this workload in the last round (perf in the guest)
#   VNR_BENCH_TRACE=rr_udp_rx,rr_udp_tx   in the last round, split these request/response
#                            workloads' transactions into segments (tracepoints)
#   VNR_BENCH_INSNS=1        count guest instructions per measurement with a TCG
#                            plugin (qemu-test/insns; slows the guest, so timings
#                            of such a run are not comparable with a plain one);
#                            =tbs also profiles kernel and modules by symbol
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
rounds=${VNR_BENCH_ROUNDS:-5}
secs=${VNR_BENCH_SECS:-3}
queues=${VNR_BENCH_QUEUES:-1 2}
res="$root/bench-results"
t0=$(date +%s)

scripts/deps.sh
kdir=$(scripts/kernel.sh bench)
modroot="$(dirname "$kdir")/modroot"
echo "bench: kernel $kdir"

# Our module for the benchmark kernel, built from a copy of the sources.
ko=$(scripts/module-for.sh bench)

rm -rf "$res"
mkdir -p "$res"
initrd="$res/initramfs.cpio.gz"
[ -n "${VNR_BENCH_PERF:-}${VNR_BENCH_TRACE:-}" ] && export VNR_INITRAMFS_PERF=1
insns=${VNR_BENCH_INSNS:-0}
if [ "$insns" != 0 ]; then
	export VNR_INITRAMFS_INSNS=1
	gcc -shared -fPIC -O2 -Wall -fvisibility=hidden -o "$res/insns.so" qemu-test/insns/insns.c
fi
qemu-test/mkinitramfs.sh "$initrd" "$modroot" "$ko"

# Module sizes as the kernel loads them (sections text, data, bss).
intree=$(find "$modroot" -path '*/kernel/drivers/net/virtio_net.ko' | head -1)
size "$ko" "$intree" > "$res/sizes.txt"

extra=()
[ -n "${VNR_BENCH_WORKLOADS:-}" ] && extra+=(--guest-arg "workloads=$VNR_BENCH_WORKLOADS")
[ -n "${VNR_BENCH_PERF:-}" ] && extra+=(--guest-arg "perf=$VNR_BENCH_PERF")
[ -n "${VNR_BENCH_TRACE:-}" ] && extra+=(--guest-arg "trace=$VNR_BENCH_TRACE")
[ "$insns" != 0 ] && extra+=(--guest-arg "insns=$insns")
for q in $queues; do
	echo "bench: $q queue pair(s), $rounds rounds + warm-up, $secs s per workload"
	plugin=()
	[ "$insns" = 1 ] && plugin=(--plugin "$res/insns.so" --plugin-log "$res/insns-q$q.log")
	[ "$insns" = tbs ] && plugin=(--plugin "$res/insns.so,tbs=on" --plugin-log "$res/insns-q$q.log")
	qemu-test/vm.py --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$initrd" --mode bench \
		--queues "$q" --guest-arg "rounds=$rounds" --guest-arg "secs=$secs" "${extra[@]}" \
		--quiet-kernel --log "$res/console-q$q.log" --timeout 3000 "${plugin[@]}" \
		> "$res/out-q$q.txt" 2>&1 &
	pid=$!
	tail -n +1 -f --pid=$pid "$res/out-q$q.txt" | grep --line-buffered -E '^# (bench|perf|trace)' &
	rc=0
	wait $pid || rc=$?
	wait
	grep '^@@B ' "$res/out-q$q.txt" | sed "s/^@@B /q=$q /" > "$res/raw-q$q.txt" || true
	[ "$rc" = 0 ] || { echo "bench: guest failed (rc=$rc), see $res/console-q$q.log"; tail -20 "$res/out-q$q.txt"; exit 1; }
done
rm -f "$initrd"

python3 -c 'import matplotlib' 2>/dev/null || pip install --quiet matplotlib >/dev/null 2>&1 ||
	echo "bench: matplotlib unavailable, no charts"
python3 qemu-test/bench_report.py --results "$res" --rounds "$rounds" --secs "$secs" \
	--kernel "$kdir" --out "$res/report.md"
if [ "$insns" != 0 ]; then
	# Timings under the plugin are not comparable with a plain run: no BENCHMARKS.md.
	python3 qemu-test/insns/report.py "$res" | tee "$res/insns.md"
else
	cp "$res/report.md" BENCHMARKS.md
fi
echo "bench: took $(( $(date +%s) - t0 )) s; report in BENCHMARKS.md and $res/"
