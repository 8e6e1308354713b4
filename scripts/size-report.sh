#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Where a module's text goes, against the in-tree virtio_net built for the same
# kernel: `size` text of both (what `make test` compares), the sections, and the N
# largest functions of each. For size work: measure, cut, measure again
# (docs/design.md "Code size"). Functions inlined into their callers count there;
# to see one on its own, mark it #[inline(never)] in a scratch copy.
#
# usage: size-report.sh [MODULE.ko [IN_TREE.ko [N]]]
#   defaults: ./virtio_net_rust.ko, the project's kernel's drivers/net/virtio_net.ko, 25
set -eo pipefail
cd "$(dirname "$0")/.."
ours=${1:-virtio_net_rust.ko}
intree=${2:-$(scripts/kdir.sh)/drivers/net/virtio_net.ko}
n=${3:-25}

text() { size "$1" | awk 'NR == 2 { print $1 }'; }
largest() {
	nm -S -C --size-sort "$1" | awk '$3 ~ /^[tT]$/' | tail -n "$n" | tac |
		while read -r _ sz _ name; do printf '%7d  %s\n' "$((16#$sz))" "${name:0:110}"; done
}

echo "text: ours $(text "$ours"), in-tree $(text "$intree")"
for ko in "$ours" "$intree"; do
	echo
	echo "== $ko: sections"
	size -A "$ko" | awk '$2 > 0 && ($1 ~ /text|rodata|data/) { printf "%7d  %s\n", $2, $1 }'
	echo "== $ko: the $n largest functions"
	largest "$ko"
done
