#!/bin/bash
# Builds (or finds in the cache) the guest kernel: Debian's linux-source-6.12 with
# tinyconfig + kernel/config.fragment, LLVM=1, CONFIG_RUST=y.
#
#   scripts/kernel.sh [VARIANT]
#
# VARIANT "test" (default) is the kernel the selftests run on, with lockdep and the
# other cheap debug checks. Any other variant applies kernel/VARIANT.fragment on top
# of kernel/config.fragment (its lines win), e.g. "bench": the same kernel without
# the debug checks, so that benchmarks measure the drivers, not lockdep.
#
# The build lives in $VNR_CACHE (default ~/.cache/virtio-net-rust), in a folder
# named by a key over the source version, the config fragment and the toolchain,
# so a second run, or a fresh clone, reuses it. Prints the build folder (KDIR).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${VNR_CACHE:-$HOME/.cache/virtio-net-rust}
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root"
variant=${1:-test}
if [ "$variant" != test ] && [ ! -f "kernel/$variant.fragment" ]; then
	echo "kernel: no kernel/$variant.fragment" >&2
	exit 1
fi
# The effective fragment: config.fragment, then the variant's lines, the last value
# of each option winning.
fragment() {
	cat kernel/config.fragment
	[ "$variant" = test ] || cat "kernel/$variant.fragment"
}
merged() {
	fragment | awk -F= '/^CONFIG_/ { if (!($1 in v)) k[++n] = $1; v[$1] = $0 }
		END { for (i = 1; i <= n; i++) print v[k[i]] }'
}

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( {
	echo "$srcver"
	merged
	rustc --version
	bindgen --version
	clang --version | head -1
	sha256sum scripts/kernel.sh
} | sha256sum | cut -c1-16)
out="$cache/kernel-$key"

if [ -f "$out/.done" ]; then
	echo "$out/build"
	exit 0
fi

mkdir -p "$cache"
# One build at a time: a second caller waits for the first and then reuses it.
exec 9>"$cache/.lock"
flock 9
if [ -f "$out/.done" ]; then
	echo "$out/build"
	exit 0
fi
src="$cache/linux-source-$srcver"
if [ ! -f "$src/.extracted" ]; then
	echo "kernel: extracting linux-source $srcver" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.extracted"
	mv "$src.tmp" "$src"
fi

echo "kernel: building $out (log: $out/build.log)" >&2
rm -rf "$out"
mkdir -p "$out/build"
merged > "$out/config.fragment"
start=$(date +%s)
kmake() { make -C "$src" O="$out/build" LLVM=1 "$@"; }
{
	kmake tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out/build" "$out/build/.config" "$out/config.fragment"
	kmake olddefconfig
	# Every line of the fragment must have survived olddefconfig.
	bad=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/build/.config" && { echo "kernel: $opt should be off" >&2; bad=1; }
		else
			grep -qx "$line" "$out/build/.config" || { echo "kernel: $line did not stick" >&2; bad=1; }
		fi
	done < "$out/config.fragment"
	[ $bad = 0 ]
	kmake -j"$(nproc)" bzImage modules
	kmake -j"$(nproc)" modules_install INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1
} > "$out/build.log" 2>&1 || { tail -40 "$out/build.log" >&2; echo "kernel: build failed" >&2; exit 1; }
echo "kernel: built in $(( $(date +%s) - start ))s" >&2
echo "$(( $(date +%s) - start ))" > "$out/build-seconds"
touch "$out/.done"
echo "$out/build"
