#!/bin/sh
# The kernel's own driver selftests (tools/testing/selftests/drivers/net: ping.py,
# stats.py, queues.py, from the same kernel tree) against the device under test,
# with the peer NIC as the remote end in netns "peer" (REMOTE_TYPE=netns).
# Their KTAP results are gathered into one stream, named script.case.
. /tests/lib.sh

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
echo "1..$n"
if dmesg | grep -qE "$SPLAT"; then
	echo "# kernel log has warnings:"; dmesg | grep -E "$SPLAT" | sed 's/^/# /'; rc=1
fi
exit $rc
