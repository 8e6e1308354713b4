#!/bin/bash
# Builds the lying virtio transport of the hostile-device suite
# (qemu-test/liar/vdev) against a kernel variant, out of the tree. Prints the .ko.
#
#   scripts/liar-vdev.sh VARIANT
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kdir=$(scripts/kernel.sh "$1")
build="$root/qemu-test/out/liar-vdev-$1"
rm -rf "$build"
mkdir -p "$build"
cp qemu-test/liar/vdev/Kbuild qemu-test/liar/vdev/vnr_liar_vdev.c "$build/"
make -s -C "$kdir" M="$build" LLVM=1 W=1 modules > "$build.log" 2>&1 ||
	{ tail -30 "$build.log" >&2; echo "liar-vdev: build against the $1 kernel failed" >&2; exit 1; }
if grep -E "warning|error" "$build.log" >&2; then
	echo "liar-vdev: warnings building against the $1 kernel" >&2
	exit 1
fi
echo "$build/vnr_liar_vdev.ko"
