#!/bin/bash
# Runs the kernel's driver selftests (ping.py, stats.py, queues.py) in the guest
# against the device under test; options go to vm.py, e.g.
#   qemu-test/kselftest.sh --dut-driver virtio_net --queues 2
# Prints one KTAP stream; exit status 0 only if every case passed (or skipped).
export VNR_INITRAMFS_PYTHON=1
source "$(dirname "$0")/common.sh"
"$root/qemu-test/vm.py" --kernel "$kernel_image" --initrd "$initrd" --mode kselftest \
	--quiet-kernel --log "$out/kselftest.log" --timeout 1500 "$@"
