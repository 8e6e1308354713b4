#!/bin/bash
# `make run`: boots the guest and shows our driver carrying traffic.
source "$(dirname "$0")/common.sh"
"$root/qemu-test/vm.py" --kernel "$kernel_image" --initrd "$initrd" --mode demo \
	--quiet-kernel --log "$out/run.log" --timeout 900 "$@"
