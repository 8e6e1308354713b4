#!/bin/bash
# Fuzzes the parsers of device-written data (host-tests/fuzz/, libFuzzer through
# cargo-fuzz) on the host, starting from the committed corpora.
#
#   scripts/fuzz.sh [SECONDS [TARGET...]]     (make fuzz FUZZ_SECS=600)
#
# The toolchain is the pinned stable one: RUSTC_BOOTSTRAP lets cargo-fuzz pass its
# coverage flags, and the targets run without a sanitizer (the logic under test is
# safe Rust: what a fuzzer finds there is a panic or an overflow, which the
# debug-assertions build turns into a crash). New inputs go to a scratch folder;
# copy them into host-tests/fuzz/corpus/ to keep them. Prints one line per target:
# "fuzz TARGET: ok (N runs)" or "fuzz TARGET: FAILED"; exit 0 only if all pass.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH" RUSTC_BOOTSTRAP=1
secs=${1:-20}
shift || true
cd "$root/host-tests/fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rx_hdr rx_len config_space)
if ! cargo fuzz build -s none -a >/dev/null 2>"$root/qemu-test/out/fuzz-build.log"; then
	tail -20 "$root/qemu-test/out/fuzz-build.log"
	for t in "${targets[@]}"; do echo "fuzz $t: FAILED (build)"; done
	exit 1
fi
rc=0
for t in "${targets[@]}"; do
	scratch=$(mktemp -d)
	log="$root/qemu-test/out/fuzz-$t.log"
	if cargo fuzz run -s none -a "$t" "$scratch" "corpus/$t" -- \
		-max_total_time="$secs" -max_len=256 -print_final_stats=1 >"$log" 2>&1; then
		echo "fuzz $t: ok ($(sed -n 's/^stat::number_of_executed_units: *//p' "$log") runs in ${secs} s, $(ls "$scratch" | wc -l) new inputs)"
	else
		echo "fuzz $t: FAILED"
		grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -10
		rc=1
	fi
	rm -rf "$scratch"
done
exit $rc
