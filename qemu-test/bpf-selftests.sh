#!/bin/bash
# Builds the kernel's own XDP selftest programs for the guest, from the same
# linux-source tree as the guest kernel, and prints the folder that holds them:
#
#   qemu-test/bpf-selftests.sh KSRC
#
# xdp_features (tools/testing/selftests/bpf/xdp_features.c: checks each XDP feature a
# driver advertises against what it does) and xskxceiver (AF_XDP in skb and driver
# modes). The selftests' Makefile builds all of test_progs first; this builds only
# what the two need: the tree's libbpf (static; Debian's 1.1 lacks the feature
# query) and bootstrap bpftool (for the BPF skeletons), then each program static,
# so the guest needs no libraries. Cached under $VNR_CACHE by source version,
# compiler and this script: about 30 s the first time.
set -euo pipefail

ksrc=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
cache=${VNR_CACHE:-$HOME/.cache/virtio-net-rust}
# The source tree's folder is named by its package version (scripts/kernel.sh).
key=$( {
	echo "$ksrc"
	clang --version | head -1
	sha256sum "$here/bpf-selftests.sh"
} | sha256sum | cut -c1-16)
out="$cache/bpf-selftests-$key"
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.bpf-selftests.lock"
flock 9
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/libbpf" "$out/bpftool"
st=$ksrc/tools/testing/selftests/bpf
build() {
	make -s -C "$ksrc/tools/lib/bpf" OUTPUT="$out/libbpf/" BUILD_STATIC_ONLY=1 \
		DESTDIR="$out/root" prefix=/usr install_headers "$out/libbpf/libbpf.a"
	make -s -C "$ksrc/tools/bpf/bpftool" OUTPUT="$out/bpftool/" bootstrap
	# A BPF object (with BTF, -g) and its skeleton header.
	skel() { # NAME
		clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -w -I"$out/root/usr/include" \
			-I"$ksrc/tools/include/uapi" -I"$st" -I/usr/include/x86_64-linux-gnu \
			-c "$st/progs/$1.c" -o "$out/$1.bpf.o"
		"$out/bpftool/bootstrap/bpftool" gen skeleton "$out/$1.bpf.o" name "$1" > "$out/$1.skel.h"
	}
	skel xdp_features
	skel xsk_xdp_progs
	local cf=(-O2 -w -I"$st" -I"$out/root/usr/include" -I"$out" -I"$ksrc/tools/lib"
		  -I"$ksrc/tools/include" -I"$ksrc/tools/include/uapi")
	local libs=("$out/libbpf/libbpf.a" -lelf -lz -lpthread)
	clang "${cf[@]}" -c "$st/network_helpers.c" -o "$out/network_helpers.o"
	clang "${cf[@]}" -static "$st/xdp_features.c" "$out/network_helpers.o" "${libs[@]}" \
		-o "$out/xdp_features"
	# xskxceiver's frames come from 55:44:33:22:11:00, a multicast address as a
	# source: veth passes them, the bridge between the VM's NICs drops them as
	# invalid. The same address with the group bit clear (54:...) gets through.
	cp "$st/xskxceiver.c" "$st/xskxceiver.h" "$out/"
	sed -i 's/g_mac\[ETH_ALEN\] = {0x55, /g_mac[ETH_ALEN] = {0x54, /' "$out/xskxceiver.h"
	grep -q 'g_mac\[ETH_ALEN\] = {0x54, ' "$out/xskxceiver.h"
	# Each test has THREAD_TMOUT (3 s) to receive all its frames and see all its
	# completions: a budget for hardware. Under TCG, with another guest beside,
	# 4,096 frames sent one per system call (HW_SW_MIN_RING_SIZE) took longer
	# with either driver. 15 s; a test that passes ends as soon as it is done.
	sed -i 's/^#define THREAD_TMOUT 3$/#define THREAD_TMOUT 15/' "$out/xskxceiver.h"
	grep -q '^#define THREAD_TMOUT 15$' "$out/xskxceiver.h"
	clang "${cf[@]}" -static "$out/xskxceiver.c" "$st/xsk.c" "$ksrc/tools/lib/find_bit.c" \
		"$out/network_helpers.o" "${libs[@]}" -o "$out/xskxceiver"
}
if ! build > "$out/build.log" 2>&1; then
	tail -20 "$out/build.log" >&2
	echo "bpf-selftests: build failed (log: $out/build.log)" >&2
	exit 1
fi
touch "$out/.done"
echo "$out"
