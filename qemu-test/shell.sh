#!/bin/bash
# `make shell`: boots the guest with the module bound to the device under test and
# gives an interactive shell on the console (Ctrl-A X quits QEMU).
source "$(dirname "$0")/common.sh"
"$root/qemu-test/vm.py" --kernel "$kernel_image" --initrd "$initrd" --mode shell "$@"
