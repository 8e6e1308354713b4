#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The largest stack frames of a module, from its object code: the kernel's
# -Wframe-larger-than (CONFIG_FRAME_WARN) covers C only, and a Rust value moved
# by copy (a large struct, an array) can make a frame of kilobytes that the
# 16 KiB kernel stack does not survive under lockdep with an interrupt on top
# (seen twice in probe). Prints the N largest frames; exits 1 if one is above
# LIMIT bytes.
#
# usage: stack-frames.sh MODULE.ko [LIMIT [N]]
set -eo pipefail
ko=$1 limit=${2:-2048} n=${3:-5}
objdump -d --no-show-raw-insn "$ko" |
	awk '/^[0-9a-f]+ <.*>:$/ { name = substr($2, 2, length($2) - 3) }
		/sub +\$0x[0-9a-f]+,%rsp/ { v = $NF; sub(/^\$0x/, "", v); sub(/,%rsp$/, "", v)
			print v, name }' |
	while read -r hex name; do echo "$((16#$hex)) $name"; done |
	sort -rn | awk -v limit="$limit" -v n="$n" '
		NR <= n { printf "%6d %s\n", $1, $2 }
		$1 > limit { bad = 1 }
		END { exit bad }'
