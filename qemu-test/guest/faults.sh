#!/bin/sh
# The fault suite (issue 5), for the debug kernel (KASAN, kmemleak, lockdep, fault
# injection): stress under traffic whose data is checked, injected allocation
# failures, hot-unplug, bad requests from users, and (vnr.only=tx_timeout, on a
# device that holds its transmit buffers) the transmit watchdog. KTAP output;
# after every test kmemleak is scanned and a leak in the driver fails the test.
#
#   vnr.reloads=50 vnr.flaps=200   repetitions of the two long stress tests
. /tests/lib.sh

ONLY=
BLOB_MB=8
RELOADS=50
FLAPS=200
SLEEPS=4
QUEUES=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vnr.only=*) ONLY=${arg#vnr.only=} ;;
	vnr.reloads=*) RELOADS=${arg#vnr.reloads=} ;;
	vnr.flaps=*) FLAPS=${arg#vnr.flaps=} ;;
	vnr.sleeps=*) SLEEPS=${arg#vnr.sleeps=} ;;
	vnr.queues=*) QUEUES=${arg#vnr.queues=} ;;
	esac
done

# ---- traffic whose data is checked ----

# Kills the listener on PORT (busybox has no pkill).
kill_listener() {
	ps | grep "[T]CP-LISTEN:$1" | awk '{ print $1 }' | xargs -r kill 2>/dev/null
}

# traffic_loop NAME SENDER_NS RECEIVER_NS ADDR PORT: sends the blob over TCP again
# and again until /tmp/traffic.stop exists; logs each transfer as ok (arrived
# intact), corrupt (the sender finished, the receiver got other bytes) or broken
# (the connection failed, as it may while the path is gone).
traffic_loop() {
	local name=$1 snd=$2 rcv=$3 addr=$4 port=$5 l
	while [ ! -e /tmp/traffic.stop ]; do
		rm -f /tmp/recv.$name
		# Both ends carry a time limit, so that a loop always ends.
		$rcv sh -c "timeout 330 socat -u TCP-LISTEN:$port,reuseaddr STDOUT | sha256sum | cut -d' ' -f1 > /tmp/recv.$name" &
		l=$!
		if ! wait_for 10 sh -c "$rcv netstat -ltn | grep -q :$port"; then
			echo broken >> /tmp/traffic.$name
			kill_listener $port
			wait $l 2>/dev/null
			continue
		fi
		if timeout 300 $snd socat -u FILE:$BLOB TCP:$addr:$port,connect-timeout=5 2>/dev/null; then
			wait $l
			if [ "$(cat /tmp/recv.$name)" = "$(cat $BLOB.sum)" ]; then echo ok; else echo corrupt; fi >> /tmp/traffic.$name
		else
			echo broken >> /tmp/traffic.$name
			kill_listener $port
			wait $l 2>/dev/null
		fi
	done
}

# Starts bidirectional checked traffic (DUT to peer and peer to DUT).
traffic_start() {
	rm -f /tmp/traffic.stop /tmp/traffic.tx /tmp/traffic.rx
	make_blob || return 1
	traffic_loop tx "" "/usr/bin/ip netns exec peer" $PEER_V4 6001 &
	TRAFFIC_PIDS=$!
	traffic_loop rx "/usr/bin/ip netns exec peer" "" $DUT_V4 6002 &
	TRAFFIC_PIDS="$TRAFFIC_PIDS $!"
}

# Stops the traffic after the transfers in flight end, and checks it: no transfer
# arrived corrupt and each direction completed at least one.
traffic_check() {
	local d ok bad rc=0 p
	touch /tmp/traffic.stop
	for p in $TRAFFIC_PIDS; do
		wait_for 30 sh -c "! kill -0 $p" && continue
		log "traffic still in flight 30 s after the stress; connections and queues:"
		netstat -tn | grep -E ':600[12] ' | sed 's/^/#   /'
		ip netns exec peer netstat -tn | grep -E ':600[12] ' | sed 's/^/#   peer /'
		cat /sys/class/net/$DUT/queues/tx-*/byte_queue_limits/inflight | tr '\n' ' ' | sed 's/^/#   BQL inflight: /'; echo
		ethtool -S "$DUT" | grep -E 'tx[0-9]+_(packets|stops|wakes|kicks|timeouts)|rx[0-9]+_(packets|bufs)' | tr -s ' \n' ' ' | sed 's/^/#   /'; echo
		wait_for 340 sh -c "! kill -0 $p" || { log "traffic loop $p stuck"; rc=1; kill $p; }
	done
	for d in tx rx; do
		ok=$(grep -c '^ok$' /tmp/traffic.$d 2>/dev/null)
		bad=$(grep -c '^corrupt$' /tmp/traffic.$d 2>/dev/null)
		log "traffic $d: ${ok:-0} transfers of $BLOB_MB MiB intact, ${bad:-0} corrupt, $(grep -c '^broken$' /tmp/traffic.$d 2>/dev/null) broken"
		[ "${ok:-0}" -ge 1 ] && [ "${bad:-0}" = 0 ] || rc=1
	done
	return $rc
}

# Counters stay consistent: the per-queue counters (where the driver has them) add
# up to the interface's.
counters_consistent() {
	local sum rc=0 d
	[ -n "$(stat_of rx0_packets)" ] || return 0
	for d in rx tx; do
		sum=$(stat_sum $d packets)
		# ndo_get_stats64 also counts queues switched off by ethtool -L.
		[ "$sum" -le "$(cat /sys/class/net/$DUT/statistics/${d}_packets)" ] ||
			{ log "$d: per-queue sum $sum above the interface's"; rc=1; }
	done
	return $rc
}

# ---- kmemleak after every test (lib.sh) ----

before_suite() { kmemleak_start; }
after_test() { kmemleak_check; }

# ---- tests: each returns 0 (pass), 1 (fail) or 4 (skip) ----

# Module unload and load (the in-tree driver, shared with the peer: unbind and
# bind), RELOADS times, while the peer pings the DUT every 20 ms; then checked
# traffic both ways.
t_reload_cycles() {
	local i ppid rc=0
	ip netns exec peer ping -i 0.02 -q $DUT_V4 >/dev/null 2>&1 &
	ppid=$!
	for i in $(seq 1 $RELOADS); do
		if [ "$DRV" = "$PEER_DRV" ]; then
			echo "$DUT_VDEV" > /sys/bus/virtio/drivers/$DRV/unbind || { rc=1; break; }
		else
			rmmod "$DRV" || { log "rmmod #$i failed"; rc=1; break; }
			insmod /modules/$DRV.ko || { log "insmod #$i failed"; rc=1; break; }
		fi
		rebind_dut || { log "reload #$i: DUT not back"; rc=1; break; }
	done
	kill $ppid; wait $ppid 2>/dev/null
	log "$i reloads"
	[ $rc = 0 ] || return 1
	start_peer_iperf
	traffic_start || return 1
	sleep 5
	traffic_check
}

# Link down and up FLAPS times, half with `ip link`, half from the device
# (QEMU set_link), under checked traffic; TCP rides over every gap.
t_link_flaps() {
	local i half=$((FLAPS / 2)) rc=0
	traffic_start || return 1
	for i in $(seq 1 $half); do
		ip link set "$DUT" down || rc=1
		ip link set "$DUT" up || rc=1
		wait_for 30 carrier_up || { log "no carrier after ip link up #$i"; rc=1; break; }
	done
	for i in $(seq 1 $half); do
		host_cmd set_link dut off
		wait_for 30 carrier_down || { log "carrier stayed up after set_link off #$i"; rc=1; break; }
		host_cmd set_link dut on
		wait_for 30 carrier_up || { log "no carrier after set_link on #$i"; rc=1; break; }
	done
	log "$FLAPS flaps done"
	traffic_check || rc=1
	ip -6 addr add $DUT_V6/64 dev "$DUT" nodad 2>/dev/null
	counters_consistent || rc=1
	return $rc
}

# System sleep under checked traffic both ways: /sys/power/pm_test = devices,
# then idle (freeze) and RAM (mem), SLEEPS times each. Every cycle quiesces the
# interface, takes back every posted buffer, deletes and recreates every
# virtqueue and reprograms the device; kmemleak after the test sees what a cycle
# loses, and the transfers must stay intact.
t_sleep_cycles() {
	[ -w /sys/power/pm_test ] || { log "no PM_DEBUG in this kernel"; return 4; }
	local i state rc=0
	echo 1 > /sys/module/suspend/parameters/pm_test_delay 2>/dev/null
	traffic_start || return 1
	for i in $(seq 1 $SLEEPS); do
		for state in freeze mem; do
			grep -qw $state /sys/power/state || continue
			echo devices > /sys/power/pm_test
			echo $state > /sys/power/state 2>/tmp/sleep.err ||
				{ log "$state #$i refused: $(cat /tmp/sleep.err)"; rc=1; }
			echo none > /sys/power/pm_test
			wait_for 30 carrier_up || { log "no carrier after $state #$i"; rc=1; }
			[ $rc = 0 ] || break 2
			sleep 1
		done
	done
	log "$SLEEPS sleep cycles of each state done"
	traffic_check || rc=1
	counters_consistent || rc=1
	return $rc
}

# MTU changes under checked traffic.
t_mtu_changes() {
	local i m max rc=0
	max=$(max_mtu)
	traffic_start || return 1
	for i in $(seq 1 10); do
		for m in 9000 1280 4000 576 1500; do
			[ $m -le "$max" ] || continue
			ip link set "$DUT" mtu $m || { log "mtu $m refused"; rc=1; }
			sleep 0.3
		done
	done
	ip link set "$DUT" mtu 1500
	traffic_check || rc=1
	ip -6 addr add $DUT_V6/64 dev "$DUT" nodad 2>/dev/null
	counters_consistent || rc=1
	return $rc
}

# ethtool -L and -G changes under checked traffic.
t_channels_rings() {
	local i max rx tx rc=0
	max=$(channels max) rx=$(ring rx) tx=$(ring tx)
	traffic_start || return 1
	for i in $(seq 1 10); do
		ethtool -L "$DUT" combined 1 2>/dev/null
		ethtool -G "$DUT" rx 64 tx 64 || { log "-G 64 refused"; rc=1; }
		sleep 0.5
		ethtool -L "$DUT" combined "$max" 2>/dev/null
		ethtool -G "$DUT" rx $rx tx $tx || { log "-G back refused"; rc=1; }
		sleep 0.5
	done
	traffic_check || rc=1
	[ "$(channels cur)" = "$max" ] && [ "$(ring rx)/$(ring tx)" = "$rx/$tx" ] ||
		{ log "settings not restored"; rc=1; }
	counters_consistent || rc=1
	return $rc
}

# Allocation failures injected into the driver's own allocations (kmalloc and the
# page allocator, filtered by the driver's text range), 20 % for 6 s then all of
# them for 3 s (the receive ring drains), under checked traffic: once injection
# stops, the ring refills and traffic resumes.
fi_set() { # PROBABILITY [LO HI]
	local d
	for d in failslab fail_page_alloc; do
		d=/sys/kernel/debug/$d
		[ -d $d ] || return 1
		if [ $# -gt 1 ]; then
			echo $2 > $d/require-start || return 1
			echo $3 > $d/require-end || return 1
			[ "$(cat $d/require-start)" != 0 ] || return 1
			echo 32 > $d/stacktrace-depth
			echo 0 > $d/verbose
			echo 1 > $d/interval
			echo N > $d/ignore-gfp-wait
			echo 100000 > $d/times
		fi
		echo $1 > $d/probability
	done
	[ -w /sys/kernel/debug/fail_page_alloc/min-order ] && echo 0 > /sys/kernel/debug/fail_page_alloc/min-order
	return 0
}
t_alloc_failures() {
	local lo hi fs fp rc=0 a0 a1
	[ -d /sys/kernel/debug/failslab ] || { log "no fault injection in this kernel"; return 4; }
	set -- $(grep "\[$DRV\]\$" /proc/kallsyms | awk '$2 ~ /^[tT]$/ { print $1 }' | sort | sed -n '1p;$p')
	[ $# = 2 ] && [ "$1" != 0000000000000000 ] || { log "no text addresses for $DRV"; return 1; }
	# Hex strings: busybox arithmetic is signed 64-bit, kernel addresses are not.
	lo=0x$1
	hi=$(printf '0x%s%08x' "${2%????????}" $((0x${2#????????} + 0x10000)))
	log "injecting into allocations from $DRV text $lo-$hi"
	a0=$(stat_sum rx alloc_failures)
	traffic_start || return 1
	sleep 3
	fi_set 20 $lo $hi || return 1
	sleep 6
	fi_set 100
	sleep 3
	fi_set 0
	fs=$((100000 - $(cat /sys/kernel/debug/failslab/times)))
	fp=$((100000 - $(cat /sys/kernel/debug/fail_page_alloc/times)))
	a1=$(stat_sum rx alloc_failures)
	log "injected: $fs kmalloc and $fp page allocation failures; driver counted $((a1 - a0)) refill failures"
	[ $((fs + fp)) -gt 0 ] || { log "nothing was injected"; rc=1; }
	traffic_check || rc=1
	if [ -n "$(stat_of rx0_alloc_failures)" ] && [ $fp -gt 0 ] && [ $((a1 - a0)) = 0 ]; then
		log "page allocations failed but no refill failure was counted"; rc=1
	fi
	counters_consistent || rc=1
	return $rc
}

# XDP attached and detached under checked traffic (a passing program: the data
# must arrive intact through it), then allocation failures injected into the
# driver while it is attached (the XDP buffers come from the same allocations).
t_xdp_under_traffic() {
	local i lo hi rc=0
	xdp_prog() { ip link set dev "$DUT" xdpdrv "$@" 2>/tmp/xdp.err || { sed 's/^/# /' /tmp/xdp.err; rc=1; }; }
	traffic_start || return 1
	for i in $(seq 1 10); do
		xdp_prog obj /xdp/pass.o sec xdp
		sleep 0.5
		xdp_prog off
		sleep 0.3
	done
	xdp_prog obj /xdp/pass.o sec xdp
	if [ -d /sys/kernel/debug/failslab ]; then
		set -- $(grep "\[$DRV\]\$" /proc/kallsyms | awk '$2 ~ /^[tT]$/ { print $1 }' | sort | sed -n '1p;$p')
		lo=0x$1
		hi=$(printf '0x%s%08x' "${2%????????}" $((0x${2#????????} + 0x10000)))
		fi_set 20 $lo $hi || rc=1
		sleep 3
		fi_set 0
	fi
	sleep 1
	xdp_prog off
	xdp_frags_faults "$lo" "$hi" || rc=1
	traffic_check || rc=1
	counters_consistent || rc=1
	log "xdp: $(ethtool -S "$DUT" 2>/dev/null | grep -E 'rx[0-9]+_xdp_(packets|drops)' | tr -s ' \n' ' ')"
	return $rc
}

# xdp_frags_faults LO HI: multi-buffer frames (jumbo pings from the peer at MTU 9000:
# the flows of traffic_start keep their MSS) through a program with frags, with the
# allocation failures of LO..HI injected meanwhile: a frame whose page fragments
# cannot all be had is dropped whole. Most pings are answered, and the interface
# carries traffic at its MTU again after.
xdp_frags_faults() {
	local mtu got rc=0
	mtu=$(cat /sys/class/net/$DUT/mtu)
	ip link set dev "$DUT" mtu 9000 || return 1
	ip -n peer link set "$PEER" mtu 9000 || rc=1
	xdp_prog obj /xdp/frags.o sec xdp.frags
	ip netns exec peer ping -q -i 0.01 -s 8100 -c 400 -W 1 $DUT_V4 > /tmp/jumbo.log 2>&1 &
	local ppid=$!
	if [ -n "$1" ] && [ -d /sys/kernel/debug/failslab ]; then
		sleep 1
		fi_set 20 "$1" "$2" || rc=1
		sleep 2
		fi_set 0
	fi
	wait $ppid
	got=$(sed -n 's/.* \([0-9][0-9]*\) \(packets \)\{0,1\}received.*/\1/p' /tmp/jumbo.log)
	xdp_prog off
	ip -n peer link set "$PEER" mtu 1500
	ip link set dev "$DUT" mtu "$mtu" || rc=1
	log "jumbo pings through the frags program: ${got:-0}/400 answered"
	[ "${got:-0}" -ge 200 ] || rc=1
	wait_for 10 ping -c 1 -W 1 -q $PEER_V4 >/dev/null || { log "no ping at mtu $mtu"; rc=1; }
	return $rc
}

# Hot-unplug of the device under traffic (device_del on the QEMU monitor), then
# hot-plug of a new one (device_add) and checked traffic.
t_hotplug() {
	local ipid mq= rc=0
	# The debug kernel has ACPI PCI hot-plug: no slots means the guest lost it (e.g.
	# booted with pci=noacpi, which scans PCI without the ACPI root bridge).
	[ -n "$(ls /sys/bus/pci/slots 2>/dev/null)" ] || { log "no PCI hotplug slots"; return 1; }
	[ "$QUEUES" -gt 1 ] && mq=",mq=on,vectors=$((2 * QUEUES + 2))"
	iperf3 -c $PEER_V4 -t 30 -P 2 >/tmp/iperf-bg.log 2>&1 &
	ipid=$!
	sleep 3
	host_cmd device_del dut
	wait_for 60 sh -c "[ ! -e /sys/bus/pci/devices/$DUT_PCI ]" || { log "device not removed"; dump_blocked; return 1; }
	[ -e /sys/class/net/$DUT ] && { log "$DUT still exists"; rc=1; }
	kill $ipid 2>/dev/null; wait $ipid 2>/dev/null
	log "unplugged; plugging back"
	host_cmd device_add virtio-net-pci,netdev=n0,id=dut,mac=$DUT_MAC,addr=0x4,romfile=$mq
	wait_for 60 sh -c "[ -n \"\$(ls -d /sys/bus/pci/devices/$DUT_PCI/virtio* 2>/dev/null)\" ]" ||
		{ log "device not back"; return 1; }
	rebind_dut || return 1
	start_peer_iperf
	traffic_start || return 1
	sleep 3
	traffic_check || rc=1
	return $rc
}

# Bad requests from users: each is refused with EINVAL/EOPNOTSUPP (or the stack's
# own error) and changes nothing. (The module has no parameters to get wrong.)
t_bad_requests() {
	local before after rc=0 max mtu mac req
	state() {
		echo "$(ethtool -g "$DUT" | tail -5 | tr -s ' \n' ' ')|$(ethtool -l "$DUT" | tail -5 | tr -s ' \n' ' ')|$(ethtool -c "$DUT" | grep -E '^(rx|tx)-(frames|usecs):' | tr -s ' \n' ' ')|$(cat /sys/class/net/$DUT/mtu)|$(cat /sys/class/net/$DUT/address)"
	}
	max=$(max_mtu)
	before=$(state)
	for req in "-G $DUT rx 0" "-G $DUT rx $(( $(ring rxmax) * 2 ))" "-G $DUT tx 100" \
		"-L $DUT combined 0" "-L $DUT combined $(( $(channels max) + 1 ))" "-L $DUT rx 1 tx 1" \
		"-C $DUT rx-usecs 7" "-C $DUT rx-frames 9" "-C $DUT tx-frames 300"; do
		if out=$(ethtool $req 2>&1); then log "ethtool $req accepted"; rc=1; else log "ethtool $req: $(echo $out | tail -c 80)"; fi
	done
	for mtu in 67 $((max + 1)); do
		ip link set "$DUT" mtu $mtu 2>/dev/null && { log "mtu $mtu accepted"; rc=1; }
	done
	for mac in 01:00:5e:00:00:01 00:00:00:00:00:00; do
		ip link set "$DUT" address $mac 2>/dev/null && { log "address $mac accepted"; rc=1; }
	done
	after=$(state)
	[ "$before" = "$after" ] || { log "state changed:"; log " before $before"; log " after  $after"; rc=1; }
	ping -c 2 -W 5 $PEER_V4 >/dev/null || { log "no ping"; rc=1; }
	return $rc
}

# On a device that completes one transmit buffer every 4 s (QEMU tx=timer,
# x-txtimer=4000000000, x-txburst=1): the transmit queue fills and stops, the
# watchdog calls ndo_tx_timeout after 5 s, and nothing hangs: the interface goes
# down and the driver unbinds while the buffers are still with the device.
t_tx_timeout() {
	local i rc=0 pids=
	for i in 1 2 3 4; do
		timeout 25 socat -u -b 64 /dev/zero UDP:$PEER_V4:9 2>/dev/null &
		pids="$pids $!"
	done
	watchdog_fired 40 || rc=1
	kill $pids 2>/dev/null; wait $pids 2>/dev/null
	# The device still holds transmit buffers.
	down_and_unbind || return 1
	if [ "$DRV" != "$PEER_DRV" ]; then
		timeout 60 rmmod "$DRV" || { log "rmmod failed"; rc=1; }
	fi
	return $rc
}

echo "TAP version 13"
# tx_timeout and sleep_cycles run alone, each in a guest of its own (faults.sh).
case "$ONLY" in
tx_timeout | sleep_cycles) run_suite $ONLY ;;
*) run_suite reload_cycles bad_requests link_flaps mtu_changes channels_rings alloc_failures xdp_under_traffic hotplug ;;
esac
