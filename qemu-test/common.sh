# Sourced by the host-side scripts: locates the kernel and builds the initramfs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/qemu-test/out"
mkdir -p "$out"
kdir=${KDIR:-$("$root/scripts/kernel.sh")}
kernel_image="$kdir/arch/x86/boot/bzImage"
modroot="$(dirname "$kdir")/modroot"
[ -d "$modroot" ] || modroot=${MODROOT:?set MODROOT to the modules_install root of KDIR}
# The source tree of an O= build (for the kernel's own selftests).
export VNR_KSRC=${VNR_KSRC:-$(readlink -f "$kdir/source")}
# One initramfs per run, so that runs from the same tree in parallel (a matrix and a
# single test, say) each boot the module they were started with.
initrd="$out/initramfs.$$.cpio.gz"
trap 'rm -f "$initrd"' EXIT
"$root/qemu-test/mkinitramfs.sh" "$initrd" "$modroot" "$root/virtio_net_rust.ko"
