#!/bin/sh
# What `make run` shows: our driver bound, its MAC and link, ping both ways
# (IPv4 and IPv6), and iperf3 TCP throughput in each direction.
. /tests/lib.sh

say() { echo "demo: $*"; }

setup_all || { say "setup failed"; dmesg | tail -30; exit 1; }
say "device under test: $DUT on $DUT_VDEV, peer: $PEER on $PEER_VDEV (netns peer, in-tree virtio_net)"
ethtool -i "$DUT" | grep -E '^(driver|version|bus-info):' | sed 's/^/demo:   /'
say "MAC $(cat /sys/class/net/$DUT/address) (device gave $DUT_MAC), $(ethtool "$DUT" | grep 'Link detected' | sed 's/^[[:space:]]*//')"
say "offloads: $(ethtool -k "$DUT" | grep -E '^(tx-checksumming|rx-checksumming|tcp-segmentation-offload):' | tr -s ' \n' ' ')"
rc=0
p() { # label, command...
	local l=$1; shift
	local out
	out=$("$@" 2>&1 | grep -E 'packets transmitted|round-trip')
	say "$l: $(echo "$out" | tr '\n' ' ')"
	echo "$out" | grep -q ' 0% packet loss' || rc=1
}
p "ping  $DUT_V4 -> $PEER_V4" ping -c 3 -W 5 $PEER_V4
p "ping  $PEER_V4 -> $DUT_V4" ip netns exec peer ping -c 3 -W 5 $DUT_V4
p "ping6 $DUT_V6 -> $PEER_V6" ping6 -c 3 -W 5 $PEER_V6
p "ping6 $PEER_V6 -> $DUT_V6" ip netns exec peer ping6 -c 3 -W 5 $DUT_V6
secs=${VNR_IPERF_SECS:-5}
for dir in send receive; do
	flag=; [ $dir = receive ] && flag=-R
	line=$(iperf3 -c $PEER_V4 -t $secs $flag 2>&1 | grep -E 'receiver$' | tail -1)
	[ -n "$line" ] || rc=1
	say "iperf3 TCP, $DRV $dir ($secs s): $(echo "$line" | awk '{print $7, $8}')"
done
if dmesg | grep -qE "$SPLAT"; then
	say "kernel log has warnings:"; dmesg | grep -E "$SPLAT"; rc=1
fi
exit $rc
