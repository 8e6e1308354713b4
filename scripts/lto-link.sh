#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-language LTO of the module: links the crate's LLVM bitcode with the C
# helpers' bitcode, internalizes everything but the symbols the kernel looks up
# (init_module, cleanup_module, the device table: the crate's unmangled
# globals), optimizes the whole with the kernel's -Os, and emits one object.
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
quiet "$bin/opt" -passes='internalize,default<Os>' \
	-internalize-public-api-list="$keep" "$tmp.bc" -o "$tmp.opt.bc"
quiet "$bin/llc" -O2 -filetype=obj -relocation-model=static -align-loops=1 \
	"$tmp.opt.bc" -o "$out"
