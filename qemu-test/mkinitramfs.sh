#!/bin/bash
# Builds the guest's initramfs: busybox, the host's ip/ethtool/iperf3/socat/sockperf with
# their libraries, the in-tree virtio_net modules, our module and the guest scripts.
#
#   mkinitramfs.sh OUT.cpio.gz MODROOT MODULE.ko
#
# A self-made initramfs rather than virtme-ng: vng with a small kernel config was
# seen here to lose the command's output and exit status (shared/reference/vm-testing.md);
# an initramfs is fully under our control, boots in seconds under TCG, and needs
# nothing from the host at run time.
set -euo pipefail

out=$1 modroot=$2 ko=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,tmp,run,etc,modules,tests,var/run,root}
cp /usr/bin/busybox "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done

# Host binaries and the shared libraries they load.
bins=(/usr/sbin/ip /usr/sbin/ethtool /usr/bin/iperf3 /usr/bin/socat)
# sockperf for `make bench` (latency), when installed.
[ -x /usr/bin/sockperf ] && bins+=(/usr/bin/sockperf)
# perf for profiling a benchmark workload (VNR_INITRAMFS_PERF=1; ~30 MB more).
[ "${VNR_INITRAMFS_PERF:-0}" = 1 ] && bins+=(/usr/bin/perf)
copy_lib() {
	local f=$1
	[ -e "$root$f" ] && return 0
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
}
for b in "${bins[@]}"; do
	# Real binaries go to /usr/bin so busybox applets of the same name stay in /bin.
	cp -L "$b" "$root/usr/bin/$(basename "$b")"
	for lib in $(ldd "$b" | awk '/=>/ {print $3} /^[ \t]*\/lib/ {print $1}'); do
		copy_lib "$lib"
	done
done
# iproute2 reads a few files at start-up.
[ -d /usr/share/iproute2 ] && mkdir -p "$root/usr/share" && cp -r /usr/share/iproute2 "$root/usr/share/"
[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$root/etc/"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"

# Modules: the in-tree virtio_net (and what it depends on), 802.1Q, pktgen, and ours.
for m in net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko net/8021q/8021q.ko \
	net/core/pktgen.ko; do
	f=$(find "$modroot" -path "*/kernel/$m" | head -1)
	[ -n "$f" ] || { echo "mkinitramfs: $m not found under $modroot" >&2; exit 1; }
	cp "$f" "$root/modules/"
done
# The failover test's primary NIC, where the kernel has it.
f=$(find "$modroot" -path "*/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko" | head -1)
[ -z "$f" ] || cp "$f" "$root/modules/"
cp "$ko" "$root/modules/virtio_net_rust.ko"
# More modules for the guest's /modules (VNR_INITRAMFS_MODULES, space-separated .ko
# paths), e.g. `make bench`'s copy of the in-tree driver for the peer NIC.
for m in ${VNR_INITRAMFS_MODULES:-}; do
	cp "$m" "$root/modules/"
done

# The kernel selftest txtimestamp (software TX timestamps), built from the same
# kernel's sources (VNR_KSRC, or the ones the build tree links to), static so it
# needs no libraries.
ksrc_root=${VNR_KSRC:-$(readlink -f "$(dirname "$modroot")/build/source")}
ksrc_tools=$ksrc_root/tools/testing/selftests/net
if ! clang -static -O2 -w -o "$root/usr/bin/txtimestamp" "$ksrc_tools/txtimestamp.c"; then
	echo "mkinitramfs: cannot build $ksrc_tools/txtimestamp.c" >&2
	exit 1
fi

# The kernel's XDP selftest programs xdp_features and xskxceiver, built (static, cached)
# from the same kernel's sources by bpf-selftests.sh.
bpfst=$("$here/bpf-selftests.sh" "$ksrc_root") ||
	{ echo "mkinitramfs: cannot build the BPF selftests" >&2; exit 1; }
cp "$bpfst/xdp_features" "$bpfst/xskxceiver" "$root/usr/bin/"

# The XDP programs of the XDP tests (qemu-test/xdp), loaded with `ip link set ... xdpdrv
# obj /xdp/NAME.o sec xdp` (sec xdp.frags for the multi-buffer ones).
xdp_src=$here/xdp
mkdir -p "$root/xdp"
bpf() { # NAME SOURCE FLAGS...
	local name=$1 src=$2
	shift 2
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu "$@" -c "$xdp_src/$src" \
		-o "$root/xdp/$name.o" || { echo "mkinitramfs: cannot build $src ($name)" >&2; exit 1; }
}
bpf drop verdict.c -DVERDICT=XDP_DROP
bpf pass verdict.c -DVERDICT=XDP_PASS
bpf aborted verdict.c -DVERDICT=XDP_ABORTED
bpf unknown verdict.c -DVERDICT=42
bpf tx echo.c
bpf redirect echo.c -DREDIRECT
bpf reflect reflect.c
# Multi-buffer programs (section xdp.frags); frags drops pings of 8000 bytes.
bpf frags frags.c -DDROP_LEN=8042
bpf tx_frags echo.c -DFRAGS
bpf redirect_frags echo.c -DFRAGS -DREDIRECT
# The AF_XDP test's socket (raw system calls: the guest has no libbpf).
clang -static -O2 -w -o "$root/usr/bin/vnr-xsk" "$xdp_src/xsk.c" ||
	{ echo "mkinitramfs: cannot build $xdp_src/xsk.c" >&2; exit 1; }

# The marker for the instruction-counting plugin (qemu-test/insns), with
# VNR_INITRAMFS_INSNS=1.
if [ "${VNR_INITRAMFS_INSNS:-0}" = 1 ] &&
	! clang -static -O2 -w -o "$root/usr/bin/vnr-mark" "$(dirname "$0")/insns/mark.c"; then
	echo "mkinitramfs: cannot build the instruction marker" >&2
	exit 1
fi

# The kernel's Python driver selftests (VNR_INITRAMFS_PYTHON=1, ~15 MB more):
# Debian's python3 with PyYAML, bash (their commands expect it), iputils ping, jq and
# coreutils readlink (for the net/forwarding library), and
# the selftests with their ynl library and netlink specs from the same kernel tree,
# laid out under /ksrc as in the source tree.
if [ "${VNR_INITRAMFS_PYTHON:-0}" = 1 ]; then
	ksrc=${VNR_KSRC:?set VNR_KSRC to the kernel source tree}
	for b in /usr/bin/python3.11 /usr/bin/bash /usr/bin/ping /usr/bin/jq /usr/bin/readlink; do
		[ -x "$b" ] || { echo "mkinitramfs: $b missing" >&2; exit 1; }
		cp -L "$b" "$root/usr/bin/"
		for lib in $(ldd "$b" | awk '/=>/ {print $3} /^[ \t]*\/lib/ {print $1}'); do
			copy_lib "$lib"
		done
	done
	ln -s python3.11 "$root/usr/bin/python3"
	mkdir -p "$root/usr/lib/python3/dist-packages"
	tar -C /usr/lib -c --exclude=test --exclude=idlelib --exclude=tkinter --exclude=lib2to3 \
		--exclude=ensurepip --exclude=pydoc_data --exclude=turtledemo \
		--exclude='config-3.11-*' --exclude=site-packages python3.11 | tar -x -C "$root/usr/lib"
	cp -r /usr/lib/python3/dist-packages/yaml /usr/lib/python3/dist-packages/_yaml \
		"$root/usr/lib/python3/dist-packages/"
	for lib in $(find /usr/lib/python3.11/lib-dynload /usr/lib/python3/dist-packages/yaml -name '*.so' \
			-exec ldd {} \; | awk '/=>/ {print $3}' | sort -u); do
		copy_lib "$lib"
	done
	k="$root/ksrc"
	st=tools/testing/selftests
	mkdir -p "$k/$st/drivers/net" "$k/$st/net/lib" "$k/tools/net/ynl" "$k/Documentation/netlink"
	cp "$ksrc/$st"/drivers/net/{ping,stats,queues}.py "$k/$st/drivers/net/"
	cp -r "$ksrc/$st/drivers/net/lib" "$k/$st/drivers/net/"
	cp -r "$ksrc/$st/net/lib/py" "$k/$st/net/lib/"
	cp -r "$ksrc/tools/net/ynl/lib" "$k/tools/net/ynl/"
	cp -r "$ksrc/Documentation/netlink/specs" "$k/Documentation/netlink/"
	# drivers/net/virtio_net/basic_features.sh and the libraries it sources, with the
	# driver's name made a parameter ($VIRTIO_NET_DRIVER, default virtio_net): it is
	# hard-coded in the driver check, the driver search and the sysfs bind path.
	mkdir -p "$k/$st/drivers/net/virtio_net" "$k/$st/net/forwarding"
	cp "$ksrc/$st/net/lib.sh" "$k/$st/net/"
	cp "$ksrc/$st/net/forwarding/lib.sh" "$k/$st/net/forwarding/"
	v="$k/$st/drivers/net/virtio_net"
	drv='${VIRTIO_NET_DRIVER:-virtio_net}'
	sed "s|check_driver \(\$h[12]\) \"virtio_net\"|check_driver \1 \"$drv\"|" \
		"$ksrc/$st/drivers/net/virtio_net/basic_features.sh" > "$v/basic_features.sh"
	sed -e "s|^NETIF_FIND_DRIVER=\"virtio_net\"|NETIF_FIND_DRIVER=\"$drv\"|" \
		-e "s|/sys/bus/virtio/drivers/virtio_net/|/sys/bus/virtio/drivers/$drv/|" \
		"$ksrc/$st/drivers/net/virtio_net/virtio_net_common.sh" > "$v/virtio_net_common.sh"
	# Every place must have been patched: an upstream change fails here, not in the guest.
	n=$(grep -c 'VIRTIO_NET_DRIVER' "$v/basic_features.sh" "$v/virtio_net_common.sh" |
		awk -F: '{s += $2} END {print s}')
	[ "$n" = 5 ] || { echo "mkinitramfs: basic_features.sh patch applied $n times, not 5" >&2; exit 1; }
	grep -q '"virtio_net"\|drivers/virtio_net/' "$v/basic_features.sh" "$v/virtio_net_common.sh" &&
		{ echo "mkinitramfs: basic_features.sh still names virtio_net" >&2; exit 1; }
fi

cp "$here"/guest/* "$root/tests/"
mv "$root/tests/init" "$root/init"
chmod +x "$root/init" "$root"/tests/*.sh

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
