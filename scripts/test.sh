#!/bin/bash
# `make test`: from a fresh machine, installs what is missing, builds the guest
# kernel (cached) and the module, runs the host tests and the in-VM selftests, and
# ends with one line "N passed, N failed" (exit 0 only if nothing failed).
#
# `make check` (--quick): the quick check while developing: the module, the static
# checks, the host tests and the in-VM suite with our driver only.
#
# Each stage prints its expected duration (measured in a fresh clone on the 2-core
# machine, kernels cached, 2026-12-04 (a slow day): 65 min 34 s) and how long the run has
# taken so far; at the end, a table of the stages with their results and durations.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
out="$root/qemu-test/out"
mkdir -p "$out"
quick=0
[ "${1:-}" = --quick ] && quick=1
name="make test"
[ $quick = 1 ] && name="make check"
passed=0 failed=0
t0=$(date +%s)
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
mmss() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# stage NAME EXPECTED_SECONDS: starts a stage (and ends the one before).
stages=() cur= cur_t0=0 cur_exp=0 cur_p=0 cur_f=0
stage() {
	stage_end
	cur=$1 cur_exp=$2 cur_t0=$(date +%s) cur_p=$passed cur_f=$failed
	echo "== $cur (expected ~$(mmss "$cur_exp"); $(mmss $((cur_t0 - t0))) into $name)"
}
stage_end() {
	[ -n "$cur" ] || return 0
	local took=$(( $(date +%s) - cur_t0 ))
	stages+=("$cur|$((passed - cur_p))|$((failed - cur_f))|$took|$cur_exp")
	echo "-- $cur: $((passed - cur_p)) passed, $((failed - cur_f)) failed in $(mmss $took)"
	cur=
}
finish() {
	local row st p f took exp
	stage_end
	echo
	echo "| stage | passed | failed | took | expected |"
	echo "|---|---|---|---|---|"
	for row in "${stages[@]}"; do
		IFS='|' read -r st p f took exp <<< "$row"
		echo "| $st | $p | $f | $(mmss "$took") | ~$(mmss "$exp") |"
	done
	echo "# $name took $(( $(date +%s) - t0 )) s"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}

stage "dependencies" 5
scripts/deps.sh || { fail "dependencies"; finish; }
stage "guest kernel (first build ~12 min, then cached)" 2
kdir=$(scripts/kdir.sh) || { fail "guest kernel build"; finish; }
export KDIR=$kdir
echo "KDIR=$kdir"
stage "module" 20
if make --no-print-directory module KDIR="$kdir" > "$out/module-build.log" 2>&1 &&
	! grep -E "^(warning|error)" "$out/module-build.log"; then
	pass "module builds without warnings"
else
	tail -30 "$out/module-build.log"
	fail "module builds without warnings"
	finish
fi
# Deterministic, as the instruction counts: `size` text of the two modules built
# for this kernel (make bench compares them on the benchmark kernel too). The
# in-tree driver of 6.12 has no working AF_XDP zero-copy, so ours is compared
# built without it (VNR_XSK_ZC=n, in a copy of the tree); what zero-copy adds
# is printed beside it (docs/design.md, "Code size").
text_of() { size "$1" 2>/dev/null | awk 'NR == 2 { print $1 }'; }
nozc="$out/module-no-xsk-zc"
rm -rf "$nozc" && mkdir -p "$nozc" &&
	git ls-files -co --exclude-standard Kbuild Makefile rust-toolchain.toml src scripts | cpio -pdm --quiet "$nozc" &&
	make --no-print-directory -C "$nozc" module KDIR="$kdir" VNR_XSK_ZC=n > "$out/module-no-xsk-zc.log" 2>&1 ||
	tail -20 "$out/module-no-xsk-zc.log"
ours_text=$(text_of "$nozc/virtio_net_rust.ko")
full_text=$(text_of virtio_net_rust.ko)
intree_text=$(text_of "$kdir/drivers/net/virtio_net.ko")
echo "module text: ours ${full_text:-?} bytes with AF_XDP zero-copy, ${ours_text:-?} without; in-tree ${intree_text:-?}"
if [ -n "$ours_text" ] && [ -n "$intree_text" ] && [ "$ours_text" -le "$intree_text" ]; then
	pass "module text without zero-copy no larger than the in-tree virtio_net's ($ours_text <= $intree_text bytes)"
else
	fail "module text without zero-copy no larger than the in-tree virtio_net's (${ours_text:-?} > ${intree_text:-?} bytes)"
fi
# C gets -Wframe-larger-than=2048; the Rust code is held to the same from its object.
if frames=$(scripts/stack-frames.sh virtio_net_rust.ko 2048 3); then
	pass "no stack frame above 2048 bytes (largest $(echo "$frames" | awk 'NR == 1 { print $1 }'))"
else
	echo "$frames"
	fail "no stack frame above 2048 bytes"
fi

stage "static checks (rustfmt, clippy, rust-analyzer, unsafe only in abstractions)" 40
if rustfmt --check src/lib.rs host-tests/src/lib.rs host-tests/tests/*.rs host-tests/fuzz/fuzz_targets/*.rs qemu-test/liar/src/main.rs > "$out/rustfmt.log" 2>&1; then
	pass "rustfmt clean"
else
	head -40 "$out/rustfmt.log"; fail "rustfmt clean"
fi
# clippy with the kernel's lint set (CLIPPY=1); rebuilds the module in the tree.
if make --no-print-directory clippy KDIR="$kdir" > "$out/clippy.log" 2>&1 &&
	! grep -E "^(warning|error)" "$out/clippy.log"; then
	pass "clippy clean (the kernel's lint set)"
else
	grep -E "^(warning|error)" -A6 "$out/clippy.log" | head -40; fail "clippy clean (the kernel's lint set)"
fi
# The editor set-up: rust-analyzer loads make rust-analyzer's project and finds no
# error (it resolves the kernel crate, the sysroot and our crate as rustc does).
if make --no-print-directory rust-analyzer KDIR="$kdir" > "$out/rust-analyzer.log" 2>&1 &&
	rust-analyzer diagnostics "$root" >> "$out/rust-analyzer.log" 2>&1 &&
	! grep -q "RustcHardError" "$out/rust-analyzer.log"; then
	pass "rust-analyzer: make rust-analyzer's project has no error"
else
	grep -o "at crate .*" "$out/rust-analyzer.log" | cut -c1-200 | head -10
	fail "rust-analyzer: make rust-analyzer's project has no error"
fi
# Only the abstractions may contain unsafe code.
if grep -rnw "unsafe" src/driver src/logic | grep -v "forbid(unsafe_code)\|//"; then
	fail "no unsafe outside src/abstractions"
else
	pass "no unsafe outside src/abstractions"
fi
# helpers.c wraps static inlines and macros; logic belongs in the abstractions.
if scripts/helpers-check.sh; then
	pass "helpers.c holds one-line wrappers only"
else
	fail "helpers.c holds one-line wrappers only"
fi

stage "host tests (cargo test; the lying device's own tests too)" 30
{ (cd host-tests && cargo test 2>&1); scripts/liar.sh --test 2>&1; } | tee "$out/host-tests.log" |
	grep -E "^test |test result|error" || true
if grep -q "^error" "$out/host-tests.log" || ! grep -q "test result" "$out/host-tests.log"; then
	fail "host tests build"
fi
while read -r p f; do
	passed=$((passed + p)); failed=$((failed + f))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$out/host-tests.log")

if [ $quick = 0 ]; then
	stage "fuzzing the parsers of device-written data (20 s per target)" 90
	while read -r line; do
		case "$line" in
		"fuzz "*": ok"*) pass "${line%% (*}"; echo "  $line" ;;
		"fuzz "*) fail "$line" ;;
		*) echo "  $line" ;;
		esac
	done < <(scripts/fuzz.sh "${VNR_FUZZ_SECS:-20}" 2>&1)
fi

# count_ktap FILE LABEL: adds a KTAP stream's results to the totals.
count_ktap() {
	local ok notok plan missing
	ok=$(grep -cE '^ok [0-9]+ ' "$1")
	notok=$(grep -cE '^not ok [0-9]+ ' "$1")
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1" | head -1)
	passed=$((passed + ok)); failed=$((failed + notok))
	missing=$(( ${plan:-1} - ok - notok ))
	[ "$missing" -gt 0 ] && { echo "FAIL: $missing $2 did not report"; failed=$((failed + missing)); }
}
# guest_rc RC LABEL: the harness's verdict on the guest kernel log.
# With FILE, a failure shows the splat lines vm.py wrote there, so that a CI log
# that keeps only this output still says what the kernel reported.
guest_rc() {
	case $1 in
	0|1) pass "$2: guest kernel log free of WARN/BUG/oops/lockdep" ;;
	2)
		[ -n "${3:-}" ] && grep -A40 -E '^# vm: kernel log has splats' "$3" | grep -E '^# ' | head -40
		fail "$2: guest kernel log free of WARN/BUG/oops/lockdep" ;;
	*) fail "$2: guest finished (rc=$1)" ;;
	esac
}
quiet() { grep -vE '^\[|^.\[|SeaBIOS|Booting from' "$@"; }

stage "in-VM selftests (virtio_net_rust)" 620
# The in-tree driver's run (the next stage) boots beside ours: a guest keeps about
# one of the two host CPUs busy (VNR_JOBS=1: one after the other).
intree_pid=
if [ $quick = 0 ] && [ "${VNR_JOBS:-2}" -gt 1 ]; then
	qemu-test/run-tests.sh --dut-driver virtio_net --log "$out/tests-intree.log" \
		> "$out/vm-tests-intree.out" 2>&1 &
	intree_pid=$!
fi
qemu-test/run-tests.sh > "$out/vm-tests.out" 2>&1
vmrc=$?
quiet "$out/vm-tests.out"
count_ktap "$out/vm-tests.out" "VM tests"
guest_rc $vmrc "selftests"
[ $quick = 1 ] && finish

stage "the same suite with the in-tree virtio_net (parity)" 150
if [ -n "$intree_pid" ]; then
	wait "$intree_pid"
else
	qemu-test/run-tests.sh --dut-driver virtio_net --log "$out/tests-intree.log" > "$out/vm-tests-intree.out" 2>&1
fi
quiet "$out/vm-tests-intree.out" | grep -E '^(not )?ok ' | sed 's/^/in-tree: /'
if qemu-test/parity.sh "$out/vm-tests.out" "$out/vm-tests-intree.out" > "$out/parity.md"; then
	pass "parity: every test the in-tree driver passes, ours passes"
else
	fail "parity: every test the in-tree driver passes, ours passes"
fi
cat "$out/parity.md"

stage "the kernel's driver selftests, 2 queue pairs, both drivers" 105
qemu-test/kselftest.sh --queues 2 --dut-driver virtio_net --log "$out/kselftest-intree.log" \
	> "$out/kselftest-intree.out" 2>&1 &
ks_intree_pid=$!
[ "${VNR_JOBS:-2}" -gt 1 ] || wait $ks_intree_pid
qemu-test/kselftest.sh --queues 2 > "$out/kselftest.out" 2>&1
ksrc=$?
wait $ks_intree_pid
quiet "$out/kselftest.out" | grep -vE '^# (# |KTAP|1\.\.)'
count_ktap "$out/kselftest.out" "kernel selftests"
guest_rc $ksrc "kernel selftests"
if qemu-test/parity.sh "$out/kselftest.out" "$out/kselftest-intree.out" > "$out/kselftest-parity.md"; then
	pass "kernel selftests parity: every case the in-tree driver passes, ours passes"
else
	fail "kernel selftests parity: every case the in-tree driver passes, ours passes"
fi
cat "$out/kselftest-parity.md"

# Deterministic, unlike timings under TCG: a QEMU plugin counts the instructions
# each driver executes per packet (qemu-test/insns, docs/benchmarking.md). One
# boot, 1 pair, one round per driver of the request/response workloads and a flood.
stage "instructions per packet, ours against in-tree (TCG plugin)" 200
VNR_BENCH_KERNEL=test VNR_BENCH_INSNS=check VNR_BENCH_QUEUES=1 VNR_BENCH_ROUNDS=1 VNR_BENCH_BOOTS=1 \
	VNR_BENCH_WORKLOADS=rr_udp_tx,rr_udp_rx,rr_tcp_tx,rr_tcp_rx,udp64_tx VNR_BENCH_RESULTS="$out/insns" \
	qemu-test/bench.sh > "$out/insns.out" 2>&1
insrc=$?
while read -r verdict line; do
	case "$verdict" in
	ok:) pass "$line" ;;
	FAIL:) fail "$line" ;;
	esac
done < <(grep -E '^(ok|FAIL): insns:' "$out/insns.out")
if [ $insrc != 0 ] && ! grep -q '^FAIL: insns:' "$out/insns.out"; then
	tail -20 "$out/insns.out"
	fail "instructions per packet: the counting run failed (rc=$insrc, $out/insns.out)"
fi

stage "device feature matrix" 660
qemu-test/matrix.sh > "$out/matrix.out" 2>&1
grep -vE '^(TAP|1\.\.)' "$out/matrix.out"
count_ktap "$out/matrix.out" "matrix variants"
cat "$out/matrix.md"
stage "the many-pair, jumbo small-buffer and failover variants with the in-tree virtio_net (parity)" 275
VNR_MATRIX=mq_17,mq_32,mq_64,small_buffers_mtu_9000,failover VNR_MATRIX_OUT=matrix-intree qemu-test/matrix.sh --dut-driver virtio_net \
	> "$out/matrix-intree.out" 2>&1
grep -E '^(not )?ok ' "$out/matrix-intree.out" | sed 's/^/in-tree: /'
if qemu-test/parity.sh "$out/matrix.out" "$out/matrix-intree.out" > "$out/matrix-parity.md"; then
	pass "matrix parity: every many-pair, jumbo small-buffer and failover variant the in-tree driver passes, ours passes"
else
	fail "matrix parity: every many-pair, jumbo small-buffer and failover variant the in-tree driver passes, ours passes"
fi

stage "make install and DKMS into scratch trees (modinfo, modprobe --dry-run)" 20
if DEBIAN_FRONTEND=noninteractive scripts/dkms.sh test "$kdir" > "$out/dkms.log" 2>&1; then
	pass "DKMS add/build/install; modinfo and modprobe --dry-run find the module"
else
	tail -20 "$out/dkms.log"; fail "DKMS add/build/install; modinfo and modprobe --dry-run find the module"
fi
rm -rf "$out/install-root"
if make --no-print-directory install KDIR="$kdir" INSTALL_MOD_PATH="$out/install-root" > "$out/install.log" 2>&1 &&
	modinfo -b "$out/install-root" -k "$(cat "$kdir/include/config/kernel.release")" virtio_net_rust \
		2>/dev/null | grep -q "^filename:.*/updates/virtio_net_rust.ko"; then
	pass "make install: modules_install into updates/ and depmod"
else
	tail -20 "$out/install.log"; fail "make install: modules_install into updates/ and depmod"
fi

stage "fault suite on the debug kernel, both drivers" 1350
# One driver after the other: a guest of this suite keeps both host CPUs busy
# (KASAN), and two side by side took longer than in turn.
rm -f "$out"/faults-*.out
# The link-flap count is cut to 60 of the 200 of `make faults` to stay within CI time.
VNR_FAULT_FLAPS=${VNR_FAULT_FLAPS:-60} qemu-test/faults.sh > "$out/faults.out" 2>&1
echo "(exit $?)" >> "$out/faults.out"
grep -E '^# (faults|vm: kernel log)' "$out/faults.out"
if [ -f "$out/faults-ours.out" ]; then
	quiet "$out/faults-ours.out" | grep -E '^(not )?ok |^# (traffic|injected|kmemleak|tx_timeouts|down and|[0-9]+ (reloads|flaps))'
	count_ktap "$out/faults-ours.out" "fault tests"
	set -- $(sed -n 's/^@@RC suite=\([0-9]*\) txto=\([0-9]*\) sleep=\([0-9]*\)$/\1 \2 \3/p' "$out/faults-ours.out")
	guest_rc "${1:-3}" "fault suite" "$out/faults-ours.out"
	guest_rc "${2:-3}" "fault suite, TX watchdog" "$out/faults-ours.out.txto"
	guest_rc "${3:-3}" "fault suite, system sleep" "$out/faults-ours.out.sleep"
	if [ -f "$out/faults-intree.out" ]; then
		quiet "$out/faults-intree.out" | grep -E '^(not )?ok ' | sed 's/^/in-tree: /'
		if qemu-test/parity.sh "$out/faults-ours.out" "$out/faults-intree.out" > /dev/null; then
			pass "fault suite parity: every fault the in-tree driver survives, ours survives"
		else
			fail "fault suite parity: every fault the in-tree driver survives, ours survives"
		fi
		cat "$out/faults-parity.md"
	fi
else
	tail -20 "$out/faults.out"
	fail "fault suite ran (debug kernel and module build)"
fi

stage "hostile device suite (qemu-test/liar), debug kernel, both drivers" 355
rm -f "$out"/liar-*.out
# The debug kernel (KASAN, kmemleak, lockdep): ~6 min for both drivers side by
# side here (a guest of this suite keeps half a host CPU busy), 9.5 one after the
# other (VNR_JOBS=1).
qemu-test/liar.sh > "$out/liar.out" 2>&1
echo "(exit $?)" >> "$out/liar.out"
grep -E '^# (liar|vm: kernel log)' "$out/liar.out"
if [ -f "$out/liar-ours.out" ]; then
	quiet "$out/liar-ours.out" | grep -E '^(not )?ok |^# (no |traffic|tx_timeouts|down and|interrupts)'
	count_ktap "$out/liar-ours.out" "hostile-device tests"
	guest_rc "$(sed -n 's/^@@RC liar=\([0-9]*\)$/\1/p' "$out/liar-ours.out")" "hostile-device suite" "$out/liar-ours.out"
	if [ -f "$out/liar-intree.out" ]; then
		quiet "$out/liar-intree.out" | grep -E '^(not )?ok ' | sed 's/^/in-tree: /'
		if qemu-test/parity.sh "$out/liar-ours.out" "$out/liar-intree.out" > /dev/null; then
			pass "hostile-device parity: every lie the in-tree driver survives, ours survives"
		else
			fail "hostile-device parity: every lie the in-tree driver survives, ours survives"
		fi
		cat "$out/liar-parity.md"
	fi
else
	tail -20 "$out/liar.out"
	fail "hostile-device suite ran (lying device, debug kernel and module build)"
fi
finish
