#!/bin/bash
# The guest kernel's build tree for the Makefile (scripts/kernel.sh, which builds it
# on first use), with what a first build costs said before it starts.
#
#   scripts/kdir.sh [VARIANT]
set -uo pipefail
"$(dirname "$0")/kernel.sh" "$@" 2> >(sed -u \
	's/^kernel: building .*/&\nkernel: a first build takes ~12 min on 2 cores; later runs reuse it/' >&2)
