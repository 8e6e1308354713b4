#!/bin/bash
# `make liar`: the hostile-device suite (qemu-test/guest/liar.sh) on the debug
# kernel (KASAN, kmemleak, lockdep), the device under test being the lying
# vhost-user device (qemu-test/liar, built by scripts/liar.sh). Once with our
# driver, once with the in-tree virtio_net.
#
# Writes qemu-test/out/liar-{ours,intree}.out (KTAP), liar-parity.md, and exits 0
# only if every test passed for our driver with a clean kernel log.
#   VNR_LIAR_DRIVERS="virtio_net_rust virtio_net"
#   VNR_LIAR_ONLY=honest,xsk_zc_refused these tests only
#   VNR_LIAR_KERNEL=debug|test          kernel variant for our driver
#   VNR_LIAR_INTREE_KERNEL=debug|test   for the in-tree driver (default: the same);
#                                       make test uses the test kernel here for CI time
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
out="$root/qemu-test/out"
mkdir -p "$out"
t0=$(date +%s)

liar=$(scripts/liar.sh) || exit 1
trap 'rm -f "$out"/initramfs-liar-*.$$.cpio.gz' EXIT

# prepare VARIANT: the kernel, module and initramfs of one kernel variant, built
# before the guests start (two guests on one variant share them).
prepare() {
	local variant=$1 kdir ko vdev initrd="$out/initramfs-liar-$1.$$.cpio.gz"
	[ -f "$initrd" ] && return 0
	kdir=$(scripts/kernel.sh "$variant") || return 3
	ko=$(scripts/module-for.sh "$variant") || return 3
	# The lying transport (qemu-test/liar/vdev), for the control-plane lies.
	vdev=$(scripts/liar-vdev.sh "$variant") || return 3
	VNR_INITRAMFS_MODULES="$vdev" \
		qemu-test/mkinitramfs.sh "$initrd" "$(dirname "$kdir")/modroot" "$ko" || return 3
}

# run_one DRIVER VARIANT: one boot of the suite; returns the guest's status.
run_one() {
	local drv=$1 variant=$2 name=ours kdir
	[ "$drv" = virtio_net ] && name=intree
	kdir=$(scripts/kernel.sh "$variant") || return 3
	# watchdog_thresh=60: KASAN and lockdep under TCG (see qemu-test/faults.sh).
	qemu-test/vm.py --kernel "$kdir/arch/x86/boot/bzImage" \
		--initrd "$out/initramfs-liar-$variant.$$.cpio.gz" --mode liar \
		--liar "$liar" --dut-driver "$drv" --append watchdog_thresh=60 --quiet-kernel \
		${VNR_LIAR_ONLY:+--only "$VNR_LIAR_ONLY"} \
		--log "$out/liar-$name.log" --timeout 1800 > "$out/liar-$name.out" 2>&1
	local r=$?
	echo "# liar $drv ($variant kernel): rc=$r"
	echo "@@RC liar=$r" >> "$out/liar-$name.out"
	return $r
}

# The drivers side by side (VNR_JOBS=1: one after the other), as in faults.sh.
ours_kernel=${VNR_LIAR_KERNEL:-debug}
rc=0 ours_pid=
for drv in ${VNR_LIAR_DRIVERS:-virtio_net_rust virtio_net}; do
	variant=$ours_kernel
	[ "$drv" = virtio_net ] && variant=${VNR_LIAR_INTREE_KERNEL:-$ours_kernel}
	if ! prepare "$variant"; then
		[ "$drv" = virtio_net ] || rc=1
		continue
	fi
	if [ "${VNR_JOBS:-2}" -gt 1 ]; then
		run_one "$drv" "$variant" &
		[ "$drv" = virtio_net ] || ours_pid=$!
	elif ! run_one "$drv" "$variant" && [ "$drv" != virtio_net ]; then
		rc=1
	fi
done
if [ -n "$ours_pid" ]; then
	wait "$ours_pid" || rc=1
fi
wait
if [ -f "$out/liar-intree.out" ] && [ -f "$out/liar-ours.out" ]; then
	qemu-test/parity.sh "$out/liar-ours.out" "$out/liar-intree.out" > "$out/liar-parity.md"
	cat "$out/liar-parity.md"
fi
echo "# liar: took $(( $(date +%s) - t0 )) s"
exit $rc
