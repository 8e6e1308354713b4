#!/bin/bash
# Runs the in-VM selftests once. Options go to vm.py, e.g.
#   qemu-test/run-tests.sh --only ping4,ping6
#   qemu-test/run-tests.sh --dut-driver virtio_net     (the in-tree driver, for comparison)
# Prints the KTAP stream; exit status 0 only if every test passed and the kernel
# log is clean.
source "$(dirname "$0")/common.sh"
"$root/qemu-test/vm.py" --kernel "$kernel_image" --initrd "$initrd" --mode tests \
	--quiet-kernel --log "$out/tests.log" --timeout 1500 "$@"
