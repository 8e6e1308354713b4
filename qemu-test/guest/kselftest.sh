#!/bin/sh
# The kernel's own driver selftests from the same kernel tree against the device
# under test: tools/testing/selftests/drivers/net ping.py, stats.py and queues.py with
# the peer NIC as the remote end in netns "peer" (REMOTE_TYPE=netns), then
# virtio_net/basic_features.sh with both NICs on the driver under test.
# Their KTAP results are gathered into one stream, named script.case.
. /tests/lib.sh
# vnr.only=ping,basic_features runs only those scripts (default: all four).
ONLY=ping,stats,queues,basic_features
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vnr.only=*) ONLY=${arg#vnr.only=} ;;
	esac
done
selected() { echo ",$ONLY," | grep -q ",$1,"; }

setup_all || { echo "TAP version 13"; echo "1..1"; echo "not ok 1 kselftest_setup"; exit 1; }
# The selftests run commands through /bin/sh and expect bash and the real
# iproute2/ping, not busybox applets.
ln -sf /usr/bin/bash /bin/sh
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
export NETIF=$DUT LOCAL_V4=$DUT_V4 REMOTE_V4=$PEER_V4 LOCAL_V6=$DUT_V6 REMOTE_V6=$PEER_V6
export REMOTE_TYPE=netns REMOTE_ARGS=peer
cd /ksrc/tools/testing/selftests/drivers/net || exit 1

echo "TAP version 13"
echo "# device under test: $DUT, driver $DRV, $(ls /sys/class/net/$DUT/queues | grep -c rx) queue pairs"
n=0 rc=0
for t in ping stats queues; do
	selected $t || continue
	timeout 300 python3 ./$t.py > /tmp/$t.ktap 2>&1
	r=$?
	sed 's/^/# /' /tmp/$t.ktap
	got=0
	while read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			n=$((n + 1)) got=1
			# "ok 3 stats.check_down # SKIP ..." -> renumbered
			echo "$line" | sed -E "s/^(not )?ok [0-9]+ /\\1ok $n /"
			case "$line" in "not ok "*) rc=1 ;; esac
			;;
		esac
	done < /tmp/$t.ktap
	if [ $got = 0 ]; then
		n=$((n + 1)); rc=1
		echo "not ok $n $t # exited $r without results"
	fi
done

if selected basic_features; then
	# drivers/net/virtio_net/basic_features.sh wants both NICs on the driver under test,
	# back to back, in one namespace (it puts each in a VRF and rebinds them with
	# features filtered through the virtio core's debugfs). The peer NIC leaves its
	# namespace and the in-tree driver for it; this runs last.
	killall iperf3 2>/dev/null
	echo "$PEER_VDEV" > /sys/bus/virtio/drivers/$PEER_DRV/unbind
	ip netns del peer
	bind "$PEER_VDEV" "$DRV"
	PEER=$(netif_of "$PEER_VDEV")
	ip addr flush dev "$DUT"
	cd /ksrc/tools/testing/selftests/drivers/net/virtio_net || exit 1
	VIRTIO_NET_DRIVER=$DRV timeout 300 bash ./basic_features.sh "$DUT" "$PEER" > /tmp/bf.out 2>&1
	r=$?
	sed 's/^/# /' /tmp/bf.out
	got=0
	# "TEST: mac feature filtered     [ OK ]" -> "ok N basic_features.mac_feature_filtered"
	while read -r line; do
		case "$line" in
		"TEST: "*"["*"]")
			n=$((n + 1)) got=1
			name=$(echo "$line" | sed -E 's/^TEST: (.*[^ ]) *\[.*$/\1/; s/[^A-Za-z0-9]+/_/g; s/_$//')
			case "$line" in
			*"[ OK ]") echo "ok $n basic_features.$name" ;;
			*"[SKIP]") echo "ok $n basic_features.$name # SKIP" ;;
			*) echo "not ok $n basic_features.$name"; rc=1 ;;
			esac
			;;
		esac
	done < /tmp/bf.out
	# The harness gives the script all it needs (debugfs, VRF, jq): a skip of the whole
	# script, or an exit without results, is a failure here.
	if [ $got = 0 ] || [ $r != 0 ]; then
		n=$((n + 1)); rc=1
		echo "not ok $n basic_features # exited $r"
	fi
fi
echo "1..$n"
if dmesg | grep -qE "$SPLAT"; then
	echo "# kernel log has warnings:"; dmesg | grep -E "$SPLAT" | sed 's/^/# /'; rc=1
fi
exit $rc
