#!/bin/bash
# `make liar`: the hostile-device suite (qemu-test/guest/liar.sh) on the debug
# kernel (KASAN, kmemleak, lockdep), the device under test being the lying
# vhost-user device (qemu-test/liar, built by scripts/liar.sh). Once with our
# driver, once with the in-tree virtio_net.
#
# Writes qemu-test/out/liar-{ours,intree}.out (KTAP), liar-parity.md, and exits 0
# only if every test passed for our driver with a clean kernel log.
#   VNR_LIAR_DRIVERS="virtio_net_rust virtio_net"   VNR_LIAR_KERNEL=debug|test
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
out="$root/qemu-test/out"
mkdir -p "$out"
t0=$(date +%s)

variant=${VNR_LIAR_KERNEL:-debug}
kdir=$(scripts/kernel.sh "$variant") || exit 1
ko=$(scripts/module-for.sh "$variant") || exit 1
liar=$(scripts/liar.sh) || exit 1
modroot="$(dirname "$kdir")/modroot"
initrd="$out/initramfs-liar.$$.cpio.gz"
trap 'rm -f "$initrd"' EXIT
qemu-test/mkinitramfs.sh "$initrd" "$modroot" "$ko" || exit 1

rc=0
for drv in ${VNR_LIAR_DRIVERS:-virtio_net_rust virtio_net}; do
	name=ours
	[ "$drv" = virtio_net ] && name=intree
	# watchdog_thresh=60: KASAN and lockdep under TCG (see qemu-test/faults.sh).
	qemu-test/vm.py --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$initrd" --mode liar \
		--liar "$liar" --dut-driver "$drv" --append watchdog_thresh=60 --quiet-kernel \
		--log "$out/liar-$name.log" --timeout 1800 > "$out/liar-$name.out" 2>&1
	r=$?
	echo "# liar $drv: rc=$r"
	[ "$drv" = virtio_net_rust ] && [ $r != 0 ] && rc=1
	echo "@@RC liar=$r" >> "$out/liar-$name.out"
done
if [ -f "$out/liar-intree.out" ] && [ -f "$out/liar-ours.out" ]; then
	qemu-test/parity.sh "$out/liar-ours.out" "$out/liar-intree.out" > "$out/liar-parity.md"
	cat "$out/liar-parity.md"
fi
echo "# liar: took $(( $(date +%s) - t0 )) s"
exit $rc
