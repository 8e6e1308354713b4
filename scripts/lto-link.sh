#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-language LTO of the module: links the crate's LLVM bitcode with the C
# helpers' bitcode, internalizes everything but the symbols the kernel looks up
# (init_module, cleanup_module, the device table: the crate's unmangled
# globals), optimizes the whole with the kernel's -Os (the functions off the
# per-packet paths for size), and emits one object.
# The helpers, each a call and a return from Rust otherwise, inline into their
# Rust callers. Called by Kbuild; see docs/design.md "Cross-language inlining".
#
# usage: lto-link.sh LLVM_BIN_DIR OUT.o CRATE.bc HELPERS.bc
set -eo pipefail

bin=$1 out=$2 crate=$3 helpers=$4
tmp=$out.tmp
trap 'rm -f "$tmp".*' EXIT

# Clang's bitcode names x86 features newer LLVM has dropped (3dnow, avx512er/pf)
# and every tool warns about each function; they are disabled features anyway.
quiet() { "$@" 2> >(grep -v "is not a recognized feature for this target" >&2); }

keep=$(quiet "$bin/llvm-nm" --defined-only --extern-only --format=just-symbols "$crate" |
	grep -v '^_R' | paste -sd, -)
test -n "$keep" || { echo "lto-link: no public symbols in $crate" >&2; exit 1; }

quiet "$bin/llvm-link" "$crate" "$helpers" -o "$tmp.bc"

# The per-packet paths (receive, transmit, completion, NAPI, the interrupt), by
# the Rust paths of their functions: they keep the kernel's optimization level.
# Every other function of the crate (probe, remove, ethtool, the control queue,
# work items: run a few times per device, not per packet) is optimized for size
# (minsize: no inlining beyond what shrinks the code, no function alignment),
# which brings the module's text below the C driver's without touching the
# instructions per packet (docs/design.md "Code size").
hot='^lib::driver::(rx|tx|queue)::|^lib::logic::(hdr|rx_buf)::|'
hot+='^lib::abstractions::(frag|skb|page_chain|virtqueue|txq|lock|napi)::|'
hot+='vq_callback|::start_xmit|::driver::rx::|::driver::tx::'
paste <(quiet "$bin/llvm-nm" --defined-only --format=just-symbols "$tmp.bc") \
	<(quiet "$bin/llvm-nm" --defined-only --format=just-symbols --demangle "$tmp.bc" |
		sed 's/^<//') |
	awk -F'\t' '$1 ~ /^_R/' > "$tmp.names"
# A renamed entry point must not fall out of the hot set unnoticed.
for f in napi::poll_callback '::start_xmit$' 'virtio::vq_callback::' 'rx::deliver$' \
	'rx::refill$' 'tx::reap::'; do
	cut -f2 "$tmp.names" | grep -E "$hot" | grep -E "$f" > /dev/null ||
		{ echo "lto-link: no hot function matches $f" >&2; exit 1; }
done
grep -vE "$(printf '\t')($hot)" "$tmp.names" | cut -f1 |
	sed 's/.*/-force-attribute=&:minsize\n-force-attribute=&:optsize/' > "$tmp.cold"

quiet "$bin/opt" -passes='forceattrs,internalize,default<Os>' @"$tmp.cold" \
	-internalize-public-api-list="$keep" "$tmp.bc" -o "$tmp.opt.bc"
quiet "$bin/llc" -O2 -filetype=obj -relocation-model=static -align-loops=1 \
	"$tmp.opt.bc" -o "$out"
