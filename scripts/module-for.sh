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
rm -rf "$build"
mkdir -p "$build"
tar -c --exclude='*.o' --exclude='.*.cmd' --exclude=bindings_generated.rs --exclude='*.bc' Kbuild src scripts/lto-link.sh | tar -x -C "$build"
make -s -C "$kdir" M="$build" LLVM=1 modules > "$build.log" 2>&1 ||
	{ tail -30 "$build.log" >&2; echo "module: build against the $variant kernel failed" >&2; exit 1; }
if grep -E "^(warning|error)" "$build.log" >&2; then
	echo "module: warnings building against the $variant kernel" >&2
	exit 1
fi
echo "$build/virtio_net_rust.ko"
