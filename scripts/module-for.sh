#!/bin/bash
# Builds our module against a kernel variant (scripts/kernel.sh VARIANT) from a copy
# of the sources, so the test build in the tree is left alone. Prints the .ko path.
#
#   scripts/module-for.sh VARIANT
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
variant=$1
kdir=$(scripts/kernel.sh "$variant")
build="$root/qemu-test/out/module-$variant"
mkdir -p "$root/qemu-test/out"
# Suites that run side by side (make test's fault and hostile-device suites) ask
# for the same build: one builds it, under the lock, and the others reuse it.
exec 9> "$build.lock"
flock 9
srcs() {
	tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--exclude='*.o' --exclude='.*.cmd' --exclude=bindings_generated.rs --exclude='*.bc' \
		Kbuild src scripts/lto-link.sh
}
stamp="$(srcs | sha256sum | cut -d' ' -f1) $kdir ${VNR_XSK_ZC-} ${VNR_LTO-}"
if [ -f "$build/virtio_net_rust.ko" ] && [ "$(cat "$build.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$build/virtio_net_rust.ko"
	exit 0
fi
rm -rf "$build" "$build.stamp"
mkdir -p "$build"
srcs | tar -x -C "$build"
make -s -C "$kdir" M="$build" LLVM=1 modules > "$build.log" 2>&1 ||
	{ tail -30 "$build.log" >&2; echo "module: build against the $variant kernel failed" >&2; exit 1; }
if grep -E "^(warning|error)" "$build.log" >&2; then
	echo "module: warnings building against the $variant kernel" >&2
	exit 1
fi
echo "$stamp" > "$build.stamp"
echo "$build/virtio_net_rust.ko"
