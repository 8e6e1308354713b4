#!/bin/sh
# In-VM selftests for the driver on the device under test (DUT), KTAP output.
# The peer NIC runs the in-tree virtio_net in network namespace "peer".
#
# Run a subset: vnr.only=name1,name2 on the kernel command line
# (qemu-test/run-tests.sh --only name1,name2).
. /tests/lib.sh

ONLY=
BLOB_MB=256
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vnr.only=*) ONLY=${arg#vnr.only=} ;;
	vnr.blob_mb=*) BLOB_MB=${arg#vnr.blob_mb=} ;;
	vnr.pairs=*) PAIRS=${arg#vnr.pairs=} ;;
	esac
done


# ---- tests: each returns 0 (pass), 1 (fail) or 4 (skip) ----

t_module_bound() {
	grep -q "^$DRV " /proc/modules || { log "$DRV not loaded"; return 1; }
	[ -e /sys/bus/virtio/drivers/$DRV/$DUT_VDEV ] || { log "$DUT_VDEV not bound to $DRV"; return 1; }
	[ "$(basename "$(readlink /sys/class/net/$DUT/device/driver)")" = "$DRV" ]
}

t_mac_and_drvinfo() {
	local mac
	mac=$(cat /sys/class/net/$DUT/address)
	[ "$mac" = "$DUT_MAC" ] || { log "MAC $mac, device has $DUT_MAC"; return 1; }
	ethtool -i "$DUT" | sed 's/^/# /'
	ethtool -i "$DUT" | grep -qx "driver: $DRV" || return 1
	ethtool -i "$DUT" | grep -qx "bus-info: $DUT_PCI" || return 1
}

t_link_follows_set_link() {
	host_cmd set_link dut off
	wait_for 30 carrier_down || { log "carrier did not go down"; return 1; }
	ethtool "$DUT" | grep -q "Link detected: no" || return 1
	host_cmd set_link dut on
	wait_for 30 carrier_up || { log "carrier did not come back"; return 1; }
	ethtool "$DUT" | grep -q "Link detected: yes"
}

# QEMU's announce_self (as after a migration) makes the guest announce itself
# (GUEST_ANNOUNCE): its gratuitous ARP corrects a wrong entry the peer holds for
# the DUT. QEMU's own RARP, sent without the feature, would not.
peer_neigh_is() { ip -n peer neigh show $DUT_V4 dev "$PEER" | grep -q "$1"; }
t_announce() {
	local mac wrong=52:54:00:00:00:99
	mac=$(cat /sys/class/net/$DUT/address)
	ip -n peer neigh replace $DUT_V4 lladdr $wrong dev "$PEER" nud stale || return 1
	# Past the neighbour lock time, so that an ARP may override the entry.
	sleep 2
	host_cmd announce_self
	wait_for 10 peer_neigh_is $mac || {
		log "peer still has: $(ip -n peer neigh show $DUT_V4 dev "$PEER")"
		return 1
	}
	log "peer learned $mac from the announcement"
}

t_ping4() {
	ping -c 3 -W 5 -q $PEER_V4 >/tmp/ping.log || { sed 's/^/# /' /tmp/ping.log; return 1; }
	tail -2 /tmp/ping.log | sed 's/^/# /'
	ip netns exec peer ping -c 3 -W 5 -q $DUT_V4 >/dev/null
}

t_ping6() {
	ping6 -c 3 -W 5 -q $PEER_V6 >/dev/null || return 1
	ip netns exec peer ping6 -c 3 -W 5 -q $DUT_V6 >/dev/null
}

t_tcp_dut_to_peer() { transfer "" "/usr/bin/ip netns exec peer" $PEER_V4; }
t_tcp_peer_to_dut() { transfer "/usr/bin/ip netns exec peer" "" $DUT_V4; }

# st NAME: a standard counter of the DUT.
st() { cat /sys/class/net/$DUT/statistics/$1; }

# The counters match the traffic: 40 pings of 1000 bytes each way are 40 packets
# of at least 1042 bytes (ICMP + IP + Ethernet headers) sent and received, give or
# take a few packets of background traffic (neighbour discovery).
t_stats_count_traffic() {
	local tp tb rp rb n=40 size=1000 frame rc=0
	frame=$((size + 8 + 20 + 14))
	tp=$(st tx_packets) tb=$(st tx_bytes) rp=$(st rx_packets) rb=$(st rx_bytes)
	ip netns exec peer ping -c $n -i 0.05 -s $size -q $DUT_V4 >/dev/null || return 1
	tp=$(( $(st tx_packets) - tp )) tb=$(( $(st tx_bytes) - tb ))
	rp=$(( $(st rx_packets) - rp )) rb=$(( $(st rx_bytes) - rb ))
	log "$n pings of $frame-byte frames: rx $rp packets $rb bytes, tx $tp packets $tb bytes"
	for v in $rp $tp; do
		[ $v -ge $n ] && [ $v -le $((n + 5)) ] || rc=1
	done
	for v in $rb $tb; do
		[ $v -ge $((n * frame)) ] && [ $v -le $((n * frame + 5 * 1500)) ] || rc=1
	done
	# The per-queue counters, where the driver has them, add up to the same.
	if [ -n "$(stat_of rx0_packets)" ]; then
		local sum=0 q
		for q in $(ethtool -S "$DUT" | sed -n 's/^ *rx[0-9]*_packets: //p'); do sum=$((sum + q)); done
		[ $sum = "$(st rx_packets)" ] || { log "per-queue rx_packets sum $sum"; rc=1; }
	fi
	return $rc
}

t_down_up_under_traffic() {
	iperf3 -c $PEER_V4 -t 12 >/tmp/iperf-bg.log 2>&1 &
	local ipid=$! i
	sleep 2
	for i in 1 2 3; do
		ip link set "$DUT" down || return 1
		sleep 1
		ip link set "$DUT" up || return 1
		wait_for 30 carrier_up || { log "no carrier after up #$i"; return 1; }
		sleep 1
	done
	wait $ipid
	ip -6 addr add $DUT_V6/64 dev "$DUT" nodad 2>/dev/null
	wait_for 20 ping -c 1 -W 1 $PEER_V4 || { log "no ping after down/up"; return 1; }
	iperf3 -c $PEER_V4 -t 2 >/tmp/iperf.log 2>&1 || { cat /tmp/iperf.log | sed 's/^/# /'; return 1; }
}

t_rmmod_under_traffic() {
	iperf3 -c $PEER_V4 -t 20 >/tmp/iperf-bg.log 2>&1 &
	local ipid=$!
	sleep 3
	log "traffic running; unloading"
	if [ "$DRV" = "$PEER_DRV" ]; then
		# The peer uses the same module: unbind instead of unloading it.
		echo "$DUT_VDEV" > /sys/bus/virtio/drivers/$DRV/unbind || return 1
	else
		rmmod "$DRV" &
		local rpid=$!
		log "rmmod pid $rpid"
		local i=0
		while kill -0 $rpid 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
		if kill -0 $rpid 2>/dev/null; then
			log "rmmod hangs; blocked tasks:"
			dump_blocked
			return 1
		fi
		wait $rpid || { log "rmmod failed"; return 1; }
		grep -q "^$DRV " /proc/modules && { log "module still loaded"; return 1; }
	fi
	[ -e /sys/class/net/$DUT ] && { log "$DUT still exists"; return 1; }
	# The flow lost its path: iperf3 would wait minutes for TCP to give up.
	kill $ipid 2>/dev/null
	wait $ipid
	grep -q "^$DRV " /proc/modules || insmod /modules/$DRV.ko || return 1
	rebind_dut || { log "DUT not back after reload"; return 1; }
	start_peer_iperf || { log "peer iperf3 server did not restart"; return 1; }
	iperf3 -c $PEER_V4 -t 2 >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; return 1; }
}

t_rmmod_idle() {
	if [ "$DRV" = "$PEER_DRV" ]; then
		# The peer uses the same module: unbind and bind the DUT instead.
		echo "$DUT_VDEV" > /sys/bus/virtio/drivers/$DRV/unbind || return 1
		[ -e /sys/class/net/$DUT ] && { log "$DUT still exists"; return 1; }
	else
		rmmod "$DRV" || return 1
		grep -q "^$DRV " /proc/modules && { log "module still loaded"; return 1; }
		insmod /modules/$DRV.ko || return 1
	fi
	bind "$DUT_VDEV" "$DRV" || return 1
	setup_dut || return 1
	wait_for 30 carrier_up || { log "no carrier after rebind"; return 1; }
}

# Whether ethtool -k reports offload NAME on.
offload_on() { ethtool -k "$DUT" | grep -q "^$1: on"; }

# Each offload the interface shows as on is used by real traffic, and each one it
# shows as off is not: nothing silently falls back to software.
t_offloads_used() {
	[ -n "$(stat_of tx0_gso_packets)" ] || { log "driver $DRV has no offload counters"; return 4; }
	local g0 c0 r0 g1 c1 r1 rc=0
	g0=$(stat_sum tx gso_packets)
	c0=$(( $(stat_sum rx csum_partial) + $(stat_sum rx csum_valid) ))
	r0=$(stat_sum rx gso_packets)
	iperf3 -c $PEER_V4 -t 2 >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; return 1; }
	iperf3 -c $PEER_V4 -t 2 -R >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; return 1; }
	g1=$(( $(stat_sum tx gso_packets) - g0 ))
	c1=$(( $(stat_sum rx csum_partial) + $(stat_sum rx csum_valid) - c0 ))
	r1=$(( $(stat_sum rx gso_packets) - r0 ))
	check() { # offload-name delta
		if offload_on "$1"; then
			[ "$2" -gt 0 ] || { log "$1 on but unused"; rc=1; }
		else
			[ "$2" -eq 0 ] || { log "$1 off but $2 packets used it"; rc=1; }
		fi
	}
	log "TSO sent $g1, offloaded rx checksums $c1, coalesced rx $r1"
	check tcp-segmentation-offload $g1
	check rx-checksumming $c1
	check rx-gro-hw $r1
	# Where the device lets the guest switch coalescing (CTRL_GUEST_OFFLOADS), off
	# means off: the device sends no coalesced packet any more.
	if ethtool -k "$DUT" | grep -q "^rx-gro-hw: on$"; then
		ethtool -K "$DUT" rx-gro-hw off || { log "rx-gro-hw off refused"; return 1; }
		r0=$(stat_sum rx gso_packets)
		iperf3 -c $PEER_V4 -t 2 -R >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; rc=1; }
		r1=$(( $(stat_sum rx gso_packets) - r0 ))
		log "rx-gro-hw switched off: coalesced rx $r1"
		check rx-gro-hw $r1
		ethtool -K "$DUT" rx-gro-hw on || { log "rx-gro-hw on refused"; rc=1; }
	fi
	return $rc
}

# Hash reports (HASH_REPORT): with `rxhash` on, received packets carry the device's
# flow hash to the stack (counted per queue); off, the device is told to stop hashing
# and no packet carries one. Skipped on a device without the feature.
t_rx_hash() {
	ethtool -k "$DUT" | grep -q '^receive-hashing: o[nf]f*$' || { log "no switchable receive hashing"; return 4; }
	[ -n "$(stat_of rx0_hash_reports)" ] || { log "driver $DRV has no hash counter"; return 4; }
	local r0 r1 rc=0
	ethtool -K "$DUT" rxhash on || { log "rxhash on refused"; return 1; }
	r0=$(stat_sum rx hash_reports)
	iperf3 -c $PEER_V4 -t 2 -R >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; rc=1; }
	r1=$(( $(stat_sum rx hash_reports) - r0 ))
	log "rxhash on: $r1 packets with the device's hash"
	[ "$r1" -gt 0 ] || { log "no hash reported"; rc=1; }
	ethtool -K "$DUT" rxhash off || { log "rxhash off refused"; return 1; }
	r0=$(stat_sum rx hash_reports)
	iperf3 -c $PEER_V4 -t 2 -R >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; rc=1; }
	r1=$(( $(stat_sum rx hash_reports) - r0 ))
	log "rxhash off: $r1 packets with a hash"
	[ "$r1" -eq 0 ] || rc=1
	return $rc
}

# RSS (VIRTIO_NET_F_RSS): the device steers each received packet to the queue the
# indirection table names for its hash. ethtool -x/-X shows and sets table and key,
# -n/-N the fields hashed; the table follows -L unless the user set it. Flows from
# the peer (16 UDP streams) land where the table says. Skipped without RSS.
indir() { ethtool -x "$DUT" 2>/dev/null | sed -n '/indirection table/,/^RSS hash key/s/^ *[0-9][0-9]*: *//p' | tr -s ' \n' ' '; }
rss_key() { ethtool -x "$DUT" 2>/dev/null | sed -n '/^RSS hash key:/{n;p}'; }
# nfc FLOW FIELDS: ethtool -N rx-flow-hash; fails if refused (ethtool 6.1 exits 0
# after "Cannot change RX network flow hashing options").
nfc() { ! ethtool -N "$DUT" rx-flow-hash "$1" "$2" 2>&1 | grep -q .; }
# rx_split [CPU]: runs 16 UDP flows peer -> DUT (2 Mbit/s each, 2 s; the client
# on CPU if given) and prints how many interrupts receive queues 0 and 1 raised
# meanwhile. Rate-limited UDP rather than TCP: QEMU 7.2's software
# RSS queues a packet whose target ring is full on the queue it came in on, and
# only a refill of that other queue flushes it, so with a table that starves a
# queue a burst can stall everything behind it (seen with 16 TCP streams).
rx_split() {
	local a0 a1 count=${RX_SPLIT_COUNT:-rxq_irqs}
	a0=$($count 0) a1=$($count 1)
	timeout 30 taskset -c "${1:-0-63}" iperf3 -c $PEER_V4 -u -b 2M -l 1200 -t 2 -P 16 -R >/tmp/iperf.log 2>&1 ||
		sed 's/^/# /' /tmp/iperf.log | tail -5 >&2
	echo "$(( $($count 0) - a0 )) $(( $($count 1) - a1 ))"
}
# rxq_packets N: packets received on queue N (rxN_packets in ethtool -S, which only
# ours has), else its interrupts. Interrupts follow NAPI's batching: a flood of
# thousands of packets can raise as few interrupts as a dozen control packets.
rxq_packets() {
	local n
	n=$(ethtool -S "$DUT" | sed -n "s/^ *rx$1_packets: //p")
	if [ -n "$n" ]; then echo "$n"; else rxq_irqs "$1"; fi
}
# rxqs_irqs MAX: interrupts of the DUT's receive queues 0..MAX-1 so far, one line
# each, from /proc/interrupts (both drivers name the vector virtioX-input.N; the
# in-tree driver has no per-queue packet counter in ethtool -S on 6.12).
rxqs_irqs() {
	awk -v max=$1 -v p="$DUT_VDEV-input." '
		index($NF, p) == 1 { q = substr($NF, length(p) + 1)
			if (q ~ /^[0-9]+$/) for (i = 2; i < NF; i++) if ($i ~ /^[0-9]+$/) n[q + 0] += $i }
		END { for (q = 0; q < max; q++) print n[q] + 0 }' /proc/interrupts
}
# rxq_irqs N: the same for receive queue N alone.
rxq_irqs() { rxqs_irqs $(($1 + 1)) | tail -n 1; }
# rss_setup MIN_PAIRS: skips (4) unless the DUT has RSS, MIN_PAIRS queue pairs and
# an interrupt per receive queue; saves the pairs in use in RSS_PAIRS and uses two.
rss_setup() {
	[ -n "$(indir)" ] || { log "no indirection table"; return 4; }
	[ "$(channels max)" -ge "$1" ] || { log "fewer than $1 queue pairs"; return 4; }
	grep -q "$DUT_VDEV-input.1\$" /proc/interrupts || { log "no interrupt per receive queue"; return 4; }
	RSS_PAIRS=$(channels cur)
	ethtool -L "$DUT" combined 2
}
t_rss() {
	local cur t n key newkey rc=0
	rss_setup 2 || return $?
	cur=$RSS_PAIRS
	t=$(indir); n=$(echo $t | wc -w)
	log "$(ethtool -x "$DUT" | head -1) $n entries"
	echo $t | grep -Eq '^(0 1 )+0 1$' || { log "not the default table over 2 queues: $t"; rc=1; }
	ethtool -x "$DUT" | grep -q 'toeplitz: on' || { log "hash function not Toeplitz"; rc=1; }
	# Every flow to queue 1, then to queue 0 (an ARP or two may take queue 0).
	ethtool -X "$DUT" weight 0 1 || { log "weight 0 1 refused"; return 1; }
	echo $(indir) | grep -Eq '^(1 )+1$' || { log "table not all 1: $(indir)"; rc=1; }
	set -- $(rx_split); log "weight 0 1: rx0 $1 irqs, rx1 $2"
	[ "$2" -gt 100 ] && [ "$1" -lt 10 ] || rc=1
	# A table that names queue 1 keeps -L from taking it away.
	ethtool -L "$DUT" combined 1 2>/dev/null && { log "combined 1 accepted with queue 1 in the table"; rc=1; }
	[ "$(channels cur)" = 2 ] || { log "now $(channels cur) pairs"; return 1; }
	ethtool -X "$DUT" weight 1 0 || { log "weight 1 0 refused"; return 1; }
	set -- $(rx_split); log "weight 1 0: rx0 $1 irqs, rx1 $2"
	[ "$1" -gt 100 ] && [ "$2" -lt 10 ] || rc=1
	ethtool -X "$DUT" weight 1 1 1 2>/dev/null && { log "a third queue accepted"; rc=1; }
	ethtool -X "$DUT" hfunc xor 2>/dev/null && { log "xor accepted"; rc=1; }
	ethtool -X "$DUT" default || { log "default refused"; return 1; }
	set -- $(rx_split); log "default: rx0 $1 irqs, rx1 $2"
	[ "$1" -gt 20 ] && [ "$2" -gt 20 ] || rc=1
	# A new key is used and shown; traffic still flows.
	key=$(rss_key)
	newkey=$(echo "$key" | awk -F: '{for (i = 1; i <= NF; i++) printf "%s%02x", (i > 1 ? ":" : ""), (i * 7) % 256}')
	ethtool -X "$DUT" hkey "$newkey" || { log "hkey refused"; rc=1; }
	[ "$(rss_key)" = "$newkey" ] || { log "key not changed: $(rss_key)"; rc=1; }
	set -- $(rx_split); log "new key: rx0 $1 irqs, rx1 $2"
	[ $(( $1 + $2 )) -gt 100 ] || rc=1
	ethtool -X "$DUT" hkey "$key" || rc=1
	# The default table follows the number of queues.
	ethtool -L "$DUT" combined 1 || { log "combined 1 refused"; rc=1; }
	echo $(indir) | grep -Eq '^(0 )+0$' || { log "table not all 0 with one queue: $(indir)"; rc=1; }
	ethtool -L "$DUT" combined 2 || rc=1
	echo $(indir) | grep -Eq '^(0 1 )+0 1$' || { log "table not back over 2 queues: $(indir)"; rc=1; }
	ethtool -L "$DUT" combined "$cur" || rc=1
	ping -c 2 -W 5 $PEER_V4 >/dev/null || { log "no ping after the changes"; rc=1; }
	return $rc
}

# ethtool -N rx-flow-hash changes what the device hashes at once: with udp4 over
# addresses only, every flow between the two hosts lands on one queue. (The
# in-tree driver sends new hash types only while rxhash is on, which it is not at
# first: its flows still spread.)
t_rss_flow_hash() {
	local cur rc=0
	rss_setup 2 || return $?
	cur=$RSS_PAIRS
	ethtool -n "$DUT" rx-flow-hash udp4 | grep -q 'L4 bytes 0 & 1' || { log "udp4 not hashed over ports"; rc=1; }
	nfc udp4 sd || { log "udp4 sd refused"; rc=1; }
	ethtool -n "$DUT" rx-flow-hash udp4 | sed 's/^/# /'
	ethtool -n "$DUT" rx-flow-hash udp4 | grep -q 'L4 bytes' && rc=1
	set -- $(RX_SPLIT_COUNT=rxq_packets rx_split); log "udp4 sd: rx0 $1, rx1 $2 (packets; interrupts where rxN_packets is missing)"
	# (iperf3's TCP control connection is still hashed over ports: a few dozen
	# packets, which in a CI run raised 15 interrupts against the flood's 230.)
	{ [ $(( $1 * 20 )) -lt "$2" ] || [ $(( $2 * 20 )) -lt "$1" ]; } ||
		{ log "one pair of addresses spread over both queues"; rc=1; }
	nfc udp4 sdfn || { log "udp4 sdfn refused"; rc=1; }
	nfc tcp4 s && { log "tcp4 s accepted"; rc=1; }
	nfc ip4 sdfn && { log "ip4 sdfn accepted"; rc=1; }
	ethtool -n "$DUT" rx-flow-hash udp4 | grep -q 'L4 bytes 0 & 1' || { log "udp4 not back to ports"; rc=1; }
	ethtool -L "$DUT" combined "$cur" || rc=1
	return $rc
}

# A table the user set stays in force across ethtool -L: every flow on queue 1,
# still, after going to three pairs and back to two. (The in-tree driver sets the
# pairs with VQ_PAIRS_SET there, which switches the device's RSS off: the flows go
# back to the queue the device picks itself, 0 here.) Needs three pairs or more.
t_rss_table_kept() {
	local cur rc=0
	rss_setup 3 || return $?
	cur=$RSS_PAIRS
	ethtool -X "$DUT" weight 0 1 || { log "weight 0 1 refused"; return 1; }
	ethtool -L "$DUT" combined 3 || { log "combined 3 refused"; rc=1; }
	ethtool -L "$DUT" combined 2 || { log "combined 2 refused"; rc=1; }
	echo $(indir) | grep -Eq '^(1 )+1$' || { log "table changed: $(indir)"; rc=1; }
	# From CPU 0 (XPS: transmit queue 0), so that a device steering by itself
	# would answer on queue 0.
	set -- $(rx_split 0); log "weight 0 1 after -L 3, -L 2: rx0 $1 irqs, rx1 $2"
	[ "$2" -gt 100 ] && [ "$1" -lt 10 ] || rc=1
	ethtool -X "$DUT" default || rc=1
	ethtool -L "$DUT" combined "$cur" || rc=1
	return $rc
}

# Bulk TCP through RSS, 16 flows over every pair, 4 runs each way: every transfer
# finishes and ping works after. QEMU 7.2's software RSS holds a packet whose target
# ring was empty on the queue it came in on until that queue is notified, so a ring
# running dry once could stall the receive path for good (the driver rings the
# other queues when a ring that ran dry gets buffers again; rxN_ran_dry counts it).
t_rss_bulk() {
	local i dir rc=0 rx
	[ -n "$(indir)" ] || { log "no indirection table"; return 4; }
	[ "$(channels cur)" -ge 2 ] || { log "one queue pair"; return 4; }
	# Small receive rings run dry sooner.
	rx=$(ring rx)
	ethtool -G "$DUT" rx 64 2>/dev/null && log "receive rings: 64"
	for i in 1 2 3 4; do
		for dir in -R ""; do
			if ! timeout 60 iperf3 -c $PEER_V4 -t 4 -P 16 $dir >/tmp/iperf.log 2>&1; then
				log "run $i ${dir:-(DUT sends)}: iperf3 failed or stalled"
				sed 's/^/# /' /tmp/iperf.log | tail -3
				rc=1
				break 2
			fi
		done
	done
	log "ran dry: $(stat_sum rx ran_dry) times; interrupts per rx queue:" \
		$(rxqs_irqs $(channels cur))
	wait_for 10 ping -c 1 -W 1 $PEER_V4 || { log "no ping after the transfers"; rc=1; }
	ethtool -G "$DUT" rx "$rx" 2>/dev/null
	[ $rc = 0 ] || start_peer_iperf
	return $rc
}

rx_packets() { cat /sys/class/net/$DUT/statistics/rx_packets; }

# frames_from_peer ADDR: pings ADDR 5 times from the peer and prints how many
# frames reached the DUT's driver meanwhile.
frames_from_peer() {
	local b
	b=$(rx_packets)
	ip netns exec peer ping -c 5 -i 0.2 -W 1 "$1" >/dev/null 2>&1
	sleep 1
	echo $(( $(rx_packets) - b ))
}

# MTU changes while up within the device's limits (jumbo frames cross both ways
# when the device can take them), and one beyond them is refused with no change.
t_mtu_change() {
	local max orig b a rc=0
	max=$(max_mtu)
	orig=$(cat /sys/class/net/$DUT/mtu)
	log "mtu $orig, maxmtu $max"
	if ip link set "$DUT" mtu $((max + 1)) 2>/dev/null; then log "mtu $((max + 1)) accepted"; rc=1; fi
	if ip link set "$DUT" mtu 67 2>/dev/null; then log "mtu 67 accepted"; rc=1; fi
	[ "$(cat /sys/class/net/$DUT/mtu)" = "$orig" ] || { log "refused change changed the MTU"; rc=1; }
	if [ "${max:-0}" -ge 9000 ]; then
		ip link set "$DUT" mtu 9000 || rc=1
		ip -n peer link set "$PEER" mtu 9000 || rc=1
		b=$(cat /sys/class/net/$DUT/statistics/rx_bytes)
		ping -c 3 -s 8900 -W 2 $PEER_V4 > /tmp/ping.log 2>&1 || { sed 's/^/# /' /tmp/ping.log; rc=1; }
		a=$(cat /sys/class/net/$DUT/statistics/rx_bytes)
		log "jumbo ping: $((a - b)) bytes received"
		[ $((a - b)) -ge $((3 * 8900)) ] || rc=1
		ip -n peer link set "$PEER" mtu 1500
	else
		ip link set "$DUT" mtu 1280 || rc=1
		ping -c 1 -W 2 $PEER_V4 >/dev/null || rc=1
	fi
	ip link set "$DUT" mtu "$orig" || rc=1
	wait_for 10 ping -c 1 -W 1 $PEER_V4 || { log "no ping at mtu $orig"; rc=1; }
	return $rc
}

# 802.1Q: traffic crosses VLAN 10, which both ends have (the device was told,
# CTRL_VLAN), and frames for VLAN 20, which only the peer has, never reach the
# DUT's stack. Addresses from 2001:db8::/32.
t_vlan() {
	local n rc=0
	grep -q "^8021q " /proc/modules || insmod /modules/8021q.ko || return 1
	ip link add link "$DUT" name vl10 type vlan id 10 || return 1
	ip -n peer link add link "$PEER" name vl10 type vlan id 10 || rc=1
	ip -n peer link add link "$PEER" name vl20 type vlan id 20 || rc=1
	ip -6 addr add 2001:db8:10::1/64 dev vl10 nodad
	ip -n peer -6 addr add 2001:db8:10::2/64 dev vl10 nodad
	ip -n peer -6 addr add 2001:db8:20::2/64 dev vl20 nodad
	ip link set vl10 up
	ip -n peer link set vl10 up
	ip -n peer link set vl20 up
	ip -n peer -6 neigh replace 2001:db8:20::1 lladdr "$(cat /sys/class/net/$DUT/address)" dev vl20 nud permanent
	wait_for 10 ping -c 1 -W 1 2001:db8:10::2 || { log "no ping over VLAN 10"; rc=1; }
	n=$(frames_from_peer 2001:db8:20::1)
	log "VLAN 20 (not configured here): $n of 5 frames reached the DUT"
	# A device without VLAN filtering (no CTRL_VLAN) lets every VLAN through.
	if offload_on "rx-vlan-filter"; then
		[ $n -lt 5 ] || rc=1
	else
		log "rx-vlan-filter off: no filtering expected"
	fi
	ip link del vl10
	ip -n peer link del vl10
	ip -n peer link del vl20
	return $rc
}

# Byte queue limits follow the transmit ring: after traffic the limit has adapted
# and, once idle, nothing is left in flight (every sent byte was completed).
t_bql() {
	local d=/sys/class/net/$DUT/queues/tx-0/byte_queue_limits
	[ -d $d ] || { log "no BQL in this kernel"; return 4; }
	iperf3 -c $PEER_V4 -t 2 >/tmp/iperf.log 2>&1 || { sed 's/^/# /' /tmp/iperf.log; return 1; }
	wait_for 10 sh -c "[ \$(cat $d/inflight) = 0 ]" || { log "inflight $(cat $d/inflight) when idle"; return 1; }
	log "limit $(cat $d/limit), inflight $(cat $d/inflight)"
	[ "$(cat $d/limit)" -gt 0 ]
}

# ethtool -G under traffic: sizes beyond the maximum or not a power of two are
# refused without a change; valid ones apply while two TCP flows run, which
# survive; then the old sizes come back.
t_ring_resize_under_traffic() {
	local rx tx ipid rc=0 out
	rx=$(ring rx) tx=$(ring tx)
	for bad in "rx $(( $(ring rxmax) * 2 ))" "rx 100" "tx 0"; do
		if ethtool -G "$DUT" $bad 2>/dev/null; then log "ethtool -G $bad accepted"; rc=1; fi
	done
	[ "$(ring rx)/$(ring tx)" = "$rx/$tx" ] || { log "refused request changed the rings"; rc=1; }
	iperf3 -c $PEER_V4 -t 10 -P 2 >/tmp/iperf-bg.log 2>&1 &
	ipid=$!
	sleep 2
	if ! out=$(ethtool -G "$DUT" rx 128 tx 128 2>&1); then
		log "ethtool -G: $out"
		kill $ipid; wait $ipid
		case "$out" in *"not supported"*) return 4 ;; esac
		return 1
	fi
	[ "$(ring rx)/$(ring tx)" = "128/128" ] || { log "rings now $(ring rx)/$(ring tx)"; rc=1; }
	sleep 2
	ethtool -G "$DUT" rx $rx tx $tx || rc=1
	[ "$(ring rx)/$(ring tx)" = "$rx/$tx" ] || { log "rings not restored: $(ring rx)/$(ring tx)"; rc=1; }
	wait $ipid || { sed 's/^/# /' /tmp/iperf-bg.log | tail -5; rc=1; }
	wait_for 10 ping -c 1 -W 1 $PEER_V4 || { log "no ping after resizing"; rc=1; }
	return $rc
}

# ethtool -L under traffic: invalid counts refused without a change, valid ones
# applied while four TCP flows run, traffic intact, several queues used.
t_channels_under_traffic() {
	local max cur ipid n rc=0 used=0 q v
	max=$(channels max) cur=$(channels cur)
	[ "${max:-1}" -gt 1 ] || { log "one queue pair: nothing to change"; return 4; }
	for n in 0 $((max + 1)); do
		if ethtool -L "$DUT" combined $n 2>/dev/null; then log "combined $n accepted"; rc=1; fi
	done
	[ "$(channels cur)" = "$cur" ] || { log "refused request changed the count"; rc=1; }
	iperf3 -c $PEER_V4 -t 12 -P 4 >/tmp/iperf-bg.log 2>&1 &
	ipid=$!
	sleep 2
	for n in 1 $max 1 $cur; do
		ethtool -L "$DUT" combined $n || { log "combined $n refused"; rc=1; }
		[ "$(channels cur)" = "$n" ] || { log "combined $n not applied"; rc=1; }
		sleep 2
	done
	wait $ipid || { sed 's/^/# /' /tmp/iperf-bg.log | tail -5; rc=1; }
	wait_for 10 ping -c 1 -W 1 $PEER_V4 || { log "no ping after the changes"; rc=1; }
	# Per-queue counters, where the driver has them: more than one queue carried data.
	for q in $(seq 0 $((max - 1))); do
		v=$(stat_of tx${q}_packets)
		[ -n "$v" ] && [ "$v" -gt 0 ] && used=$((used + 1))
	done
	log "$cur of $max pairs in use; transmit queues that carried packets: $used"
	if [ -n "$(stat_of tx0_packets)" ] && [ "$cur" -gt 1 ] && [ $used -lt 2 ]; then rc=1; fi
	return $rc
}

# ethtool -g/-l/-S/link answer with what the device has: ring sizes within their
# maximums, one queue pair in use, per-queue counters named as in-tree (rxN_kicks).
t_ethtool_queries() {
	local g rxmax rx txmax tx rc=0
	g=$(ethtool -g "$DUT") || return 1
	rxmax=$(echo "$g" | sed -n '/maximums/,/Current/s/^RX:[[:space:]]*//p')
	txmax=$(echo "$g" | sed -n '/maximums/,/Current/s/^TX:[[:space:]]*//p')
	rx=$(echo "$g" | sed -n '/Current/,$s/^RX:[[:space:]]*//p')
	tx=$(echo "$g" | sed -n '/Current/,$s/^TX:[[:space:]]*//p')
	log "rings: rx $rx (max $rxmax), tx $tx (max $txmax)"
	[ "${rx:-0}" -ge 64 ] && [ "$rx" -le "${rxmax:-0}" ] || rc=1
	[ "${tx:-0}" -ge 64 ] && [ "$tx" -le "${txmax:-0}" ] || rc=1
	ethtool -l "$DUT" | grep -q "^Combined:[[:space:]]*[1-9]" || { log "no combined channels"; rc=1; }
	ethtool "$DUT" | grep -q "Link detected: yes" || { log "link settings"; rc=1; }
	ethtool -S "$DUT" | grep -q "rx0_kicks:" || { log "no rx0_kicks counter"; rc=1; }
	return $rc
}

# The virtio-net header goes in the headroom, in front of the Ethernet header, so
# a linear packet is one descriptor (no indirect table to allocate, map and free):
# the interface asks the stack for that room (needed_headroom, as in-tree). ICMP
# and UDP get only 16 bytes of headroom otherwise, 2 left after the Ethernet
# header. Counted by our tx hdr_separate; skipped for a driver without it.
# The counters also see what the stack sends meanwhile, and a packet whose header
# is shared with a clone (a multicast copy looped back, a capture) rightly takes
# a descriptor of its own: CI once counted 1 of 25. So up to 3 rounds, one clean
# round passes; a missing needed_headroom shows in every round (23 of 23).
headroom_round() {
	local s0 p0 s1 p1 i=0
	s0=$(stat_sum tx hdr_separate)
	p0=$(stat_sum tx packets)
	ping -c 3 -W 5 $PEER_V4 >/dev/null || { log "ping failed"; return 2; }
	while [ $i -lt 20 ]; do
		echo "$i" | socat -u - UDP4-SENDTO:$PEER_V4:9 || { log "socat failed"; return 2; }
		i=$((i + 1))
	done
	s1=$(( $(stat_sum tx hdr_separate) - s0 ))
	p1=$(( $(stat_sum tx packets) - p0 ))
	log "$p1 packets sent, $s1 with the header in a descriptor of its own"
	[ "$p1" -ge 23 ] && [ "$s1" -eq 0 ]
}
t_tx_header_in_headroom() {
	[ -n "$(stat_of tx0_hdr_separate)" ] || { log "driver $DRV has no hdr_separate counter"; return 4; }
	local round rc
	for round in 1 2 3; do
		headroom_round
		rc=$?
		[ $rc = 1 ] || return $rc
	done
	return 1
}

# Software transmit timestamps, as in-tree: `ethtool -T` lists them, and the kernel
# selftest txtimestamp (UDP, 3 packets; its delay check relaxed to 10 s for TCG)
# gets an SND timestamp for every packet, which only the driver's
# skb_tx_timestamp() produces.
t_tx_timestamp() {
	local out sink rc=0
	ethtool -T "$DUT" | grep -q "software-transmit" || { log "ethtool -T: no software-transmit"; rc=1; }
	[ -x /usr/bin/txtimestamp ] || { log "no txtimestamp in the guest"; return 1; }
	ip netns exec peer socat -u UDP4-RECV:9000 /dev/null &
	sink=$!
	sleep 0.5
	out=$(txtimestamp -4 -u -c 3 -t 10000000 $PEER_V4 2>&1) || { echo "$out" | sed 's/^/# /'; log "txtimestamp failed"; rc=1; }
	kill $sink 2>/dev/null
	wait $sink 2>/dev/null
	echo "$out" | grep -E "USR-(SND|ENQ):" | sed 's/^ */# /'
	echo "$out" | grep -q "USR-SND: count=3," || { log "no SND timestamp for each packet"; rc=1; }
	return $rc
}

# The device drops frames for other MACs until the interface goes promiscuous: the
# receive mode reaches the device (CTRL_RX over the control queue).
t_rx_filter_promisc() {
	local other=52:54:00:99:99:99 addr=192.0.2.77 n rc=0
	ip -n peer neigh replace $addr lladdr $other dev "$PEER" nud permanent || return 1
	n=$(frames_from_peer $addr)
	log "filtering: $n of 5 frames for $other reached the DUT"
	[ $n -lt 5 ] || rc=1
	ip link set "$DUT" promisc on
	sleep 1
	n=$(frames_from_peer $addr)
	log "promiscuous: $n of 5 frames for $other reached the DUT"
	[ $n -ge 5 ] || rc=1
	ip link set "$DUT" promisc off
	ip -n peer neigh del $addr dev "$PEER"
	return $rc
}

# The MAC address changes while up and the device then accepts frames for it
# (CTRL_MAC_ADDR); an invalid address is refused and changes nothing.
t_mac_change() {
	local new=52:54:00:12:34:77 old rc=0
	old=$(cat /sys/class/net/$DUT/address)
	if ip link set "$DUT" address 01:00:5e:00:00:01 2>/dev/null; then
		log "multicast MAC accepted"; rc=1
	fi
	[ "$(cat /sys/class/net/$DUT/address)" = "$old" ] || { log "MAC changed by a refused request"; rc=1; }
	ip link set "$DUT" address $new || return 1
	ip -n peer neigh flush dev "$PEER"
	wait_for 10 ip netns exec peer ping -c 1 -W 1 $DUT_V4 || { log "no ping with the new MAC"; rc=1; }
	ip -n peer neigh show dev "$PEER" | grep -q "$new" || { log "peer did not learn $new"; rc=1; }
	ip link set "$DUT" address "$old" || rc=1
	ip -n peer neigh flush dev "$PEER"
	wait_for 10 ip netns exec peer ping -c 1 -W 1 $DUT_V4 || { log "no ping after restoring the MAC"; rc=1; }
	return $rc
}

# The DUT is the standby of a failover pair (matrix `failover`: QEMU failover=on on
# a q35 machine with a PCIe root port for the primary, an e1000e with the same
# MAC that the test plugs). The driver puts a net_failover master over the DUT; a
# primary joins it when it appears. Traffic through the master goes by the
# standby alone, by the primary once plugged, by the standby once the primary is
# unplugged, and by the primary again once plugged back. Skips on a device
# without STANDBY.
fo_primary() { ls -d /sys/class/net/$1/lower_* 2>/dev/null | sed 's|.*/lower_||' | grep -vx "$DUT"; }
tx_of() { cat /sys/class/net/$1/statistics/tx_packets 2>/dev/null || echo 0; }
fo_traffic() {
	local what=$1 via=$2 t0 t1
	t0=$(tx_of $via)
	ip -n peer neigh flush dev "$PEER"
	wait_for 20 ping -c 1 -W 1 $PEER_V4 || { log "$what: no ping"; return 1; }
	timeout 20 iperf3 -c $PEER_V4 -t 2 >/dev/null 2>&1 || { log "$what: no transfer to the peer"; return 1; }
	timeout 20 iperf3 -c $PEER_V4 -t 2 -R >/dev/null 2>&1 || { log "$what: no transfer from the peer"; return 1; }
	t1=$(tx_of $via)
	log "$what: $via sent $((t1 - t0)) packets"
	[ $((t1 - t0)) -gt 100 ] || { log "$what: traffic did not go by $via"; return 1; }
}
# fo_plug MASTER: plugs the primary (QEMU may still hold the id of one just
# unplugged: retried) and waits for it to join MASTER.
fo_plug() {
	local i
	for i in 1 2 3; do
		host_cmd device_add e1000e,netdev=n2,id=primary,mac=$DUT_MAC,bus=rp1,romfile=,failover_pair_id=dut
		wait_for 20 sh -c "[ -n \"\$(ls -d /sys/class/net/$1/lower_* | grep -v lower_$DUT)\" ]" && break
	done
	PRI=$(fo_primary $1)
	[ -n "$PRI" ] || { log "no primary joined $1"; return 1; }
	log "primary $PRI ($(basename $(readlink /sys/class/net/$PRI/device/driver)))"
	wait_for 20 sh -c "[ \"\$(cat /sys/class/net/$PRI/carrier 2>/dev/null)\" = 1 ]" || { log "$PRI has no carrier"; return 1; }
}
t_failover() {
	local fo pci rc=0 master
	master=$(readlink /sys/class/net/$DUT/master 2>/dev/null)
	if [ -z "$master" ]; then
		log "no failover master over $DUT"
		# The harness says whether the device offers STANDBY (vm.py --failover).
		grep -q "vnr.failover=1" /proc/cmdline && return 1
		return 4
	fi
	fo=${master##*/}
	log "failover master $fo over $DUT"
	[ "$(cat /sys/class/net/$DUT/phys_port_name 2>/dev/null)" = sby ] || { log "phys_port_name is not sby"; rc=1; }
	if ip link set "$DUT" address 52:54:00:12:34:79 2>/dev/null; then log "standby took a new MAC"; rc=1; fi
	grep -q "^e1000e " /proc/modules || insmod /modules/e1000e.ko || return 1
	# The addresses move from the standby to the master, as users configure it.
	ip addr flush dev "$DUT"
	ip addr add $DUT_V4/24 dev $fo
	ip link set $fo up
	wait_for 20 sh -c "[ \"\$(cat /sys/class/net/$fo/carrier)\" = 1 ]" || { log "$fo has no carrier"; rc=1; }
	fo_traffic "standby alone" "$DUT" || rc=1
	fo_plug $fo || return 1
	fo_traffic "primary plugged" $PRI || rc=1
	pci=$(basename $(readlink /sys/class/net/$PRI/device))
	host_cmd device_del primary
	wait_for 60 sh -c "[ -z \"\$(ls -d /sys/class/net/$fo/lower_* | grep -v lower_$DUT)\" ]" ||
		{ log "primary not removed"; return 1; }
	fo_traffic "primary unplugged" "$DUT" || rc=1
	# QEMU deletes the device once the guest ejected the slot.
	wait_for 60 sh -c "[ ! -e /sys/bus/pci/devices/$pci ]" || { log "$pci not ejected"; return 1; }
	sleep 1
	fo_plug $fo || return 1
	fo_traffic "primary back" $PRI || rc=1
	return $rc
}

# The device offers CTRL_* features without CTRL_VQ: the driver refuses it with
# a clear log line (run alone, on such a device: vnr.only=bind_refused).
t_bind_refused() {
	if bind "$DUT_VDEV" "$DRV" 2>/dev/null || [ -e /sys/bus/virtio/devices/$DUT_VDEV/driver ]; then
		log "bound anyway"
		return 1
	fi
	dmesg | grep "refusing to bind" | sed 's/^/# /'
	dmesg | grep -q "without VIRTIO_NET_F_CTRL_VQ; refusing to bind"
}

# ethtool -c/-C on a device without NOTF_COAL (QEMU has none): one frame per
# interrupt each way, time-based coalescing refused (EOPNOTSUPP), other frame
# counts refused (EINVAL), and a refused request changes nothing.
coal() { ethtool -c "$DUT" | sed -n "s/^$1:[[:space:]]*//p"; }
t_coalesce() {
	local out rc=0
	log "coalesce: $(ethtool -c "$DUT" | grep -E '^(rx|tx)-(usecs|frames):' | tr -s ' \n' ' ')"
	[ "$(coal rx-frames)" = 1 ] && [ "$(coal tx-frames)" = 1 ] || { log "frames not 1/1"; rc=1; }
	out=$(ethtool -C "$DUT" rx-usecs 50 2>&1) && { log "rx-usecs 50 accepted"; rc=1; }
	echo "$out" | grep -q "not supported" || { log "rx-usecs 50: $out"; rc=1; }
	out=$(ethtool -C "$DUT" rx-frames 8 2>&1) && { log "rx-frames 8 accepted"; rc=1; }
	echo "$out" | grep -q "Invalid argument" || { log "rx-frames 8: $out"; rc=1; }
	out=$(ethtool -C "$DUT" tx-frames 64 2>&1) && { log "tx-frames 64 accepted"; rc=1; }
	[ "$(coal rx-frames)" = 1 ] && [ "$(coal tx-frames)" = 1 ] && [ "$(coal rx-usecs)" = 0 ] ||
		{ log "a refused request changed the settings"; rc=1; }
	# Traffic still flows after the refused requests.
	ping -c 2 -W 5 $PEER_V4 >/dev/null || { log "no ping after -C"; rc=1; }
	return $rc
}

# The device's queue pairs (vnr.pairs, set with --queues by the matrix) are all
# offered, one per CPU is in use, and the control queue answers: it is found at
# index 2 * max_virtqueue_pairs whatever their number (more than 16 hung the guest).
t_default_pairs() {
	local max cur cpus want rc=0 rxq
	[ -n "${PAIRS:-}" ] || { log "no vnr.pairs (vm.py sets it)"; return 1; }
	max=$(channels max) cur=$(channels cur) cpus=$(nproc)
	want=$(( PAIRS < cpus ? PAIRS : cpus ))
	rxq=$(ls -d /sys/class/net/$DUT/queues/rx-* | wc -l)
	log "device pairs $PAIRS, CPUs $cpus: ethtool max $max, current $cur, rx queues in sysfs $rxq"
	[ "$max" = "$PAIRS" ] || { log "maximum is not the device's $PAIRS"; rc=1; }
	[ "$cur" = "$want" ] || { log "current is not $want"; rc=1; }
	[ "$rxq" = "$cur" ] || { log "sysfs shows $rxq receive queues"; rc=1; }
	grep -c "virtio.*input\." /proc/interrupts | sed 's/^/# receive-queue interrupt lines: /'
	[ "$max" -gt 1 ] || { [ $rc = 0 ] && ping -c 2 -W 5 $PEER_V4 >/dev/null; return; }
	# The control queue answers: a change there and back.
	ethtool -L "$DUT" combined "$max" || { log "combined $max refused"; rc=1; }
	ethtool -L "$DUT" combined "$cur" || { log "combined $cur refused"; rc=1; }
	[ "$(channels cur)" = "$cur" ] || { log "combined $cur not applied"; rc=1; }
	ping -c 2 -W 5 $PEER_V4 >/dev/null || { log "no ping after -L"; rc=1; }
	return $rc
}

# The offloads the device offers here (QEMU, tap) are accepted as in-tree accepts
# them; HOST_UFO among them (bit 14), which the stack no longer uses but in-tree acks.
t_features_accepted() {
	local f bit rc=0
	f=$(cat /sys/class/net/$DUT/device/features)
	log "negotiated: $f"
	for bit in 0 1 5 7 10 11 12 14 15 17; do
		[ "${f:$bit:1}" = 1 ] || { log "feature bit $bit not accepted"; rc=1; }
	done
	return $rc
}

# System sleep under a TCP transfer, down to the devices and back
# (/sys/power/pm_test = devices: every driver's freeze and restore run, no
# firmware), to idle (freeze) and to RAM (mem) where offered, twice each, with a
# MAC address set by the user. The driver must sleep (a refusal fails), the
# transfer carry on, both sides reach each other after each cycle, the address
# hold, and the counters go on. A device reset under a driver that did not expect
# it (the virtio core's default without `freeze`) fails here.
t_system_sleep() {
	[ -w /sys/power/pm_test ] || { log "no PM_DEBUG in this kernel"; return 4; }
	local state ipid rc=0 cycle n0 rx0 rx1 new=52:54:00:12:34:78 old
	# pm_test=devices suspends and resumes every device, then waits
	# pm_test_delay seconds (5 by default, spinning) before resuming: 1 is enough.
	echo 1 > /sys/module/suspend/parameters/pm_test_delay 2>/dev/null
	# A MAC set by the user must survive: the reset device forgets it, and the
	# receive filter, sent again after resume, drops what is not for it.
	old=$(cat /sys/class/net/$DUT/address)
	ip link set "$DUT" address $new || return 1
	ip -n peer neigh flush dev "$PEER"
	rx0=$(cat /sys/class/net/$DUT/statistics/rx_packets)
	for cycle in 1 2; do
		for state in freeze mem; do
			grep -qw $state /sys/power/state || { log "$state: not offered"; continue; }
			echo devices > /sys/power/pm_test || return 1
			timeout 30 iperf3 -c $PEER_V4 -t 8 >/tmp/iperf-bg.log 2>&1 &
			ipid=$!
			sleep 2
			n0=$(dmesg | wc -l)
			if ! echo $state > /sys/power/state 2>/tmp/sleep.err; then
				log "$state #$cycle: refused ($(cat /tmp/sleep.err))"
				dmesg | tail -n +$((n0 + 1)) | grep -E "$DUT_PCI|virtio|PM: .*(fail|abort)" | sed 's/^/#   /' | head -5
				rc=1
			fi
			echo none > /sys/power/pm_test
			wait $ipid || { log "$state #$cycle: transfer failed across it"; sed 's/^/#   /' /tmp/iperf-bg.log | tail -3; rc=1; }
			wait_for 10 ping -c 1 -W 1 $PEER_V4 || { log "$state #$cycle: no ping after"; rc=1; }
			wait_for 10 ip netns exec peer ping -c 1 -W 1 $DUT_V4 || { log "$state #$cycle: no ping from the peer after"; rc=1; }
			# One broken cycle says it; more would only cost minutes of timeouts.
			[ $rc = 0 ] || break 2
		done
	done
	if [ $rc = 0 ]; then
		ip -n peer neigh show dev "$PEER" | grep -q "$new" || { log "peer did not learn $new"; rc=1; }
		# Both ways after the cycles, and the counters went on from where they were.
		timeout 20 iperf3 -c $PEER_V4 -t 2 >/dev/null 2>&1 || { log "no transfer to the peer after"; rc=1; }
		timeout 20 iperf3 -c $PEER_V4 -t 2 -R >/dev/null 2>&1 || { log "no transfer from the peer after"; rc=1; }
		rx1=$(cat /sys/class/net/$DUT/statistics/rx_packets)
		[ "$rx1" -gt "$rx0" ] || { log "rx_packets went from $rx0 to $rx1"; rc=1; }
	fi
	ip link set "$DUT" address "$old" || rc=1
	ip -n peer neigh flush dev "$PEER"
	return $rc
}

# xps_masks CPUS PAIRS: the CPU mask of each pair, one per line, as in-tree's
# virtnet_set_affinity gives them: groups of max(CPUS / PAIRS, 1) CPUs in turn (the
# first CPUS % PAIRS pairs one more when there are more CPUs than pairs), wrapping.
xps_masks() {
	awk -v cpus=$1 -v pairs=$2 'BEGIN {
		stride = int(cpus / pairs); if (stride < 1) stride = 1
		extra = cpus >= pairs ? cpus % pairs : 0
		for (i = 0; i < pairs; i++) {
			g = stride + (i < extra); m = 0
			for (j = 0; j < g; j++) { m += 2 ^ cpu; cpu = (cpu + 1) % cpus }
			print m
		}
	}'
}

# queue_counts MAX: per queue 0..MAX-1, a line "KICKS IRQS": the transmit queue's
# doorbells (txN_kicks: a queue's first packet on an idle ring always rings) and the
# receive queue's interrupts (NAPI polls a receive ring only after one). Both
# drivers have both; only ours counts packets per queue in ethtool -S.
queue_counts() {
	ethtool -S "$DUT" | awk -v max=$1 '
		{ sub(/^ +/, ""); if ($1 ~ /^tx[0-9]+_kicks:$/) k[substr($1, 3) + 0] = $2 }
		END { for (q = 0; q < max; q++) print k[q] + 0 }' > /tmp/queues.kicks
	rxqs_irqs $1 | paste -d' ' /tmp/queues.kicks -
}
# queues_used BEFORE AFTER: "T R", the transmit and receive queues whose counts grew.
queues_used() {
	paste -d' ' "$1" "$2" | awk '{ if ($3 > $1) t++; if ($4 > $2) r++ } END { print t + 0, r + 0 }'
}

# Every pair the device has, in use at once (big VMs have as many pairs as vCPUs:
# 32 or 64 here on 2 vCPUs): XPS maps each transmit queue as in-tree does, and
# traffic reaches every transmit and every receive queue. Per round, 128 UDP flows
# from a sender pinned to each CPU (XPS gives a CPU its own queues, the flow hash
# picks among them), and 128 flows from the peer (the device fills the receive
# queue of the tap queue a packet came from, which the tap picks by flow hash);
# rounds until every queue counted packets.
t_every_queue() {
	local max cur cpus i c pids want got rc=0 round tx=0 rx=0 flows="-u -b 50k -l 200 -P 128 -t 2"
	max=$(channels max) cur=$(channels cur) cpus=$(nproc)
	[ "${max:-1}" -gt 1 ] || { log "one queue pair"; return 4; }
	grep -q "$DUT_VDEV-input.1\$" /proc/interrupts || { log "no interrupt per receive queue"; return 4; }
	ethtool -L "$DUT" combined "$max" || { log "combined $max refused"; return 1; }
	i=0
	for want in $(xps_masks $cpus $max); do
		got=$(tr -d ',' < /sys/class/net/$DUT/queues/tx-$i/xps_cpus)
		[ $((0x$got)) = "$want" ] || { log "tx-$i xps_cpus $got, in-tree's rule gives $(printf %x $want)"; rc=1; }
		i=$((i + 1))
	done
	queue_counts $max > /tmp/queues.0
	# One iperf3 server per sender (a server runs one test at a time).
	for c in $(seq 1 $((cpus - 1))); do ip netns exec peer iperf3 -s -D -p $((5201 + c)) >/dev/null 2>&1; done
	sleep 1
	for round in 1 2 3 4 5 6; do
		pids=
		for c in $(seq 0 $((cpus - 1))); do
			taskset -c $c iperf3 -c $PEER_V4 -p $((5201 + c)) $flows >/tmp/iperf-$c.log 2>&1 &
			pids="$pids $!"
		done
		for i in $pids; do wait $i || { log "a sender failed"; sed 's/^/#   /' /tmp/iperf-*.log | tail -3; }; done
		iperf3 -c $PEER_V4 $flows -R >/tmp/iperf.log 2>&1 ||
			{ sed 's/^/#   /' /tmp/iperf.log | tail -3; rc=1; break; }
		queue_counts $max > /tmp/queues.1
		set -- $(queues_used /tmp/queues.0 /tmp/queues.1)
		tx=$1 rx=$2
		[ $tx = $max ] && [ $rx = $max ] && break
	done
	log "$max pairs, $cpus CPUs, $round round(s): $tx transmit queues rang their doorbell, $rx receive queues took interrupts"
	[ $tx = $max ] && [ $rx = $max ] || rc=1
	start_peer_iperf
	ethtool -L "$DUT" combined "$cur" || { log "combined $cur refused"; rc=1; }
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping after"; rc=1; }
	return $rc
}

# netconsole through the DUT, as the kernel's netcons_basic.sh does on netdevsim: a
# dynamic target made in configfs, kernel messages checked at a listener in the
# peer's namespace; then again under a TCP transfer, where netpoll sends from
# printk (interrupts off) onto a ring the stack is also filling, and cleans it
# with budget-0 polls. Lockdep watches both (the splat check).
NETCONS=/sys/kernel/config/netconsole/vnr
netcons_count() { grep -c "vnr-netcons-$1-" /tmp/netcons.log 2>/dev/null; }
t_netconsole() {
	[ -d /sys/kernel/config ] || { log "no configfs in this kernel"; return 4; }
	grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config || return 1
	[ -d /sys/kernel/config/netconsole ] || { log "no dynamic netconsole in this kernel"; return 4; }
	local port=6666 printk rc=0 n i lpid ipid
	printk=$(cut -f1 /proc/sys/kernel/printk)
	# Messages at KERN_WARNING reach the consoles (netconsole is one).
	[ "$printk" -gt 4 ] || echo 5 > /proc/sys/kernel/printk
	rm -f /tmp/netcons.log
	ip netns exec peer socat -u UDP-RECV:$port,bind=$PEER_V4 OPEN:/tmp/netcons.log,creat,append &
	lpid=$!
	wait_for 10 sh -c "/usr/bin/ip netns exec peer netstat -uan | grep -q :$port" || { log "listener not up"; kill $lpid; return 1; }
	mkdir $NETCONS || { kill $lpid; return 1; }
	echo "$DUT" > $NETCONS/dev_name && echo $DUT_V4 > $NETCONS/local_ip &&
		echo $PEER_V4 > $NETCONS/remote_ip && echo $PEER_MAC > $NETCONS/remote_mac &&
		echo $port > $NETCONS/remote_port && echo 1 > $NETCONS/enabled || rc=1
	if [ $rc = 0 ]; then
		for i in 1 2 3 4 5; do echo "<4>vnr-netcons-idle-$i-" > /dev/kmsg; sleep 0.2; done
		wait_for 10 sh -c "[ \$(grep -c vnr-netcons-idle- /tmp/netcons.log) = 5 ]"
		n=$(netcons_count idle)
		log "idle: ${n:-0} of 5 messages at the listener"
		[ "$n" = 5 ] || rc=1
		iperf3 -c $PEER_V4 -t 8 >/tmp/iperf-bg.log 2>&1 &
		ipid=$!
		sleep 2
		for i in $(seq 1 40); do echo "<4>vnr-netcons-busy-$i-" > /dev/kmsg; sleep 0.1; done
		wait $ipid || { log "iperf3 failed"; sed 's/^/#   /' /tmp/iperf-bg.log | tail -3; rc=1; }
		sleep 1
		n=$(netcons_count busy)
		# UDP through a bridge filled by TCP may lose a few; a netpoll that cannot
		# send loses them all or stalls.
		log "under TCP traffic: ${n:-0} of 40 messages at the listener"
		[ "${n:-0}" -ge 36 ] || rc=1
	fi
	echo 0 > $NETCONS/enabled 2>/dev/null
	rmdir $NETCONS || rc=1
	kill $lpid 2>/dev/null
	echo "$printk" > /proc/sys/kernel/printk
	# The interface still carries traffic after netpoll let go of it.
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping after netconsole"; rc=1; }
	return $rc
}

# ---- XDP (programs from qemu-test/xdp, built into /xdp) ----

# xdp_sum DIR NAME: a per-queue counter summed over the queues (rx0_xdp_drops + ...).
xdp_sum() {
	ethtool -S "$DUT" 2>/dev/null | sed -n "s/^ *$1[0-9][0-9]*_$2: //p" | awk '{s += $1} END {print s + 0}'
}
# xdp_on NAME [SECTION]: attaches /xdp/NAME.o in driver mode.
xdp_on() { ip link set dev "$DUT" xdpdrv obj "/xdp/$1.o" sec "${2:-xdp}" 2>/tmp/xdp.err || { sed 's/^/# /' /tmp/xdp.err; return 1; }; }
xdp_off() { ip link set dev "$DUT" xdpdrv off; }
xdp_attached() { ip -d link show dev "$DUT" | grep -q 'prog/xdp'; }
# Pings answered, of $1 sent from the peer to the DUT (ping's options after it: a
# size, -s N). The peer's neighbour entry
# for the DUT is pinned meanwhile: a program that drops ARP would otherwise leave the
# peer resolving (one ARP request a second instead of a ping every 0.2 s), and the
# frames counted would follow its timing.
peer_pings() {
	local n=$1
	shift
	ip -n peer neigh replace $DUT_V4 lladdr "$(cat /sys/class/net/$DUT/address)" dev "$PEER" nud permanent
	ip netns exec peer ping -c "$n" -i 0.2 -W 1 -q "$@" $DUT_V4 2>/dev/null |
		sed -n 's/.* \([0-9][0-9]*\) \(packets \)\{0,1\}received.*/\1/p'
	ip -n peer neigh del $DUT_V4 dev "$PEER" 2>/dev/null
}
in_echos() { awk '/^Icmp:/ { n++; if (n == 2) print $8 }' /proc/net/snmp; }

# A dropping program drops every frame (pings go unanswered, drops counted); the
# interface carries traffic again once it is detached.
t_xdp_drop() {
	local d0 d got rc=0
	ping -c 1 -W 5 -q $PEER_V4 >/dev/null
	d0=$(xdp_sum rx xdp_drops)
	xdp_on drop || return 1
	xdp_attached || { log "no program shown attached"; rc=1; }
	got=$(peer_pings 5)
	[ "${got:-0}" = 0 ] || { log "$got pings answered through XDP_DROP"; rc=1; }
	d=$(( $(xdp_sum rx xdp_drops) - d0 ))
	[ $d -ge 5 ] || { log "rx xdp_drops grew by $d, expected >= 5"; rc=1; }
	xdp_off
	xdp_attached && { log "still attached after xdpdrv off"; rc=1; }
	# The program dropped ARP too: the peer may have to resolve the DUT again.
	wait_for 10 ip netns exec peer ping -c 1 -W 1 -q $DUT_V4 >/dev/null ||
		{ log "no ping answered after detaching"; rc=1; }
	log "XDP_DROP: $d frames dropped"
	return $rc
}

# XDP_ABORTED and an unknown verdict drop the frame and count it.
t_xdp_aborted() {
	local prog d0 d got n tr=/sys/kernel/tracing ev rc=0
	# Each one fires the xdp:xdp_exception tracepoint, with the action and the
	# device's ifindex (xdp_exception: prog_id=.. action=ABORTED|0x2a ifindex=N).
	[ -d $tr/events ] || mount -t tracefs nodev $tr 2>/dev/null
	ev=$tr/events/xdp/xdp_exception/enable
	if [ -w $ev ]; then echo > $tr/trace; echo 1 > $ev; else log "no xdp_exception tracepoint"; rc=1; fi
	for prog in aborted unknown; do
		d0=$(xdp_sum rx xdp_drops)
		xdp_on $prog || return 1
		got=$(peer_pings 3)
		xdp_off
		d=$(( $(xdp_sum rx xdp_drops) - d0 ))
		[ "${got:-0}" = 0 ] || { log "$prog: $got pings answered"; rc=1; }
		[ $d -ge 3 ] || { log "$prog: rx xdp_drops grew by $d, expected >= 3"; rc=1; }
		log "$prog: $d frames dropped"
	done
	[ -w $ev ] && echo 0 > $ev
	for prog in ABORTED 0x2a; do
		n=$(grep -c "xdp_exception: .* action=$prog ifindex=$(cat /sys/class/net/$DUT/ifindex)\$" $tr/trace)
		log "xdp_exception events with action $prog: $n"
		[ "$n" -ge 3 ] || rc=1
	done
	return $rc
}

# A passing program: a TCP stream from the peer arrives intact through it, every
# frame seen by the program.
t_xdp_pass() {
	local p0 p rc=0
	p0=$(xdp_sum rx xdp_packets)
	xdp_on pass || return 1
	BLOB=/tmp/blob32 BLOB_MB=32 transfer "/usr/bin/ip netns exec peer" "" $DUT_V4 || rc=1
	xdp_off
	p=$(( $(xdp_sum rx xdp_packets) - p0 ))
	# 32 MiB in frames of at most 1514 bytes.
	[ $p -ge 22000 ] || { log "rx xdp_packets grew by $p, expected >= 22000"; rc=1; }
	log "XDP_PASS: $p frames through the program"
	return $rc
}

# t_xdp_echo PROG STAT: the program answers the peer's pings itself (the DUT's
# stack never sees them), sending the replies with XDP_TX or by redirecting them to
# the same interface (ndo_xdp_xmit); STAT counts the verdicts.
xdp_echo() {
	local prog=$1 stat=$2 e0 v0 t0 e v t got rc=0
	ping -c 1 -W 5 -q $PEER_V4 >/dev/null
	e0=$(in_echos) v0=$(xdp_sum rx $stat) t0=$(xdp_sum tx xdp_tx)
	xdp_on $prog || return 1
	got=$(peer_pings 10)
	xdp_off
	e=$(( $(in_echos) - e0 )) v=$(( $(xdp_sum rx $stat) - v0 )) t=$(( $(xdp_sum tx xdp_tx) - t0 ))
	log "$prog: $got/10 pings answered; rx $stat +$v, tx xdp_tx +$t, stack's echo requests +$e"
	[ "${got:-0}" -ge 9 ] || rc=1
	[ $v -ge 9 ] || rc=1
	[ $t -ge 9 ] || rc=1
	[ $e -le 1 ] || rc=1
	return $rc
}
t_xdp_tx() { xdp_echo tx xdp_tx; }
t_xdp_redirect() { xdp_echo redirect xdp_redirects; }

# tx_xdp_between FROM TO: txN_xdp_tx summed over queues FROM <= N < TO.
tx_xdp_between() {
	ethtool -S "$DUT" 2>/dev/null |
		awk -v a="$1" -v b="$2" -F'[x_:]' '/^ *tx[0-9]+_xdp_tx:/ { n = $2 + 0; if (n >= a && n < b) s += $NF } END { print s + 0 }'
}

# XDP's own send queues: with a pair per possible CPU free after those in use, XDP_TX
# and redirected frames go out on those, never on the stack's (in-tree's per-CPU XDP
# send queues); `ethtool -L` is refused meanwhile, and all is as before once
# detached.
t_xdp_send_queues() {
	local max cur cpus use prog own0 shared0 own shared got rc=0
	max=$(channels max) cur=$(channels cur)
	cpus=$(( $(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1 ))
	use=$((max - cpus))
	[ "$use" -ge 1 ] || { log "$max pairs, $cpus CPUs: no room"; return 1; }
	ethtool -L "$DUT" combined $use || return 1
	for prog in tx redirect; do
		ping -c 1 -W 5 -q $PEER_V4 >/dev/null
		own0=$(tx_xdp_between $use $max) shared0=$(tx_xdp_between 0 $use)
		xdp_on $prog || { rc=1; continue; }
		if ethtool -L "$DUT" combined 1 2>/dev/null; then
			log "ethtool -L accepted with XDP's own queues in use"
			rc=1
		fi
		got=$(peer_pings 10)
		# Read while attached: in-tree lists the counters of the pairs in use only.
		own=$(( $(tx_xdp_between $use $max) - own0 )) shared=$(( $(tx_xdp_between 0 $use) - shared0 ))
		xdp_off
		log "$prog with $use of $max pairs in use: $got/10 pings answered; xdp_tx +$own on XDP's queues, +$shared on the stack's"
		[ "${got:-0}" -ge 9 ] && [ $own -ge 9 ] && [ $shared = 0 ] || rc=1
	done
	ethtool -L "$DUT" combined "$cur" || rc=1
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping after detaching"; rc=1; }
	return $rc
}

# What attaching refuses, with a message: an MTU too large for one buffer (the
# program has no frags); and what it refuses while attached: turning the device's
# receive coalescing back on.
t_xdp_refusals() {
	local mtu rc=0
	mtu=$(cat /sys/class/net/$DUT/mtu)
	if ip link set dev "$DUT" mtu 9000 2>/dev/null; then
		if xdp_on pass 2>/dev/null; then
			log "attached with MTU 9000"
			rc=1
			xdp_off
		else
			log "MTU 9000 refused: $(cat /tmp/xdp.err | head -1)"
		fi
		ip link set dev "$DUT" mtu "$mtu"
	fi
	xdp_on pass || return 1
	local gro want
	gro=$(ethtool -k "$DUT" | sed -n 's/^rx-gro-hw: //p')
	case "$gro" in
	*fixed*) log "rx-gro-hw $gro: no toggle to refuse" ;;
	*)
		want=on
		[ "$gro" = on ] && want=off
		if ethtool -K "$DUT" rx-gro-hw $want 2>/dev/null; then
			log "rx-gro-hw $gro -> $want accepted under XDP"
			rc=1
		else
			log "rx-gro-hw $gro -> $want refused under XDP"
		fi
		;;
	esac
	xdp_off
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping after detaching"; rc=1; }
	return $rc
}

# AF_XDP in copy mode (qemu-test/xdp/xsk.c, raw system calls): a socket on queue 0
# gets the peer's frames from its program's XSKMAP redirect (which takes every
# frame of the queue, ARP too, so the pings go unanswered meanwhile), then sends
# UDP datagrams that arrive at the peer.
t_xsk_copy() {
	local out port=9999 got ppid rc=0
	# The peer keeps sending pings while the socket takes every frame (ARP too): with
	# a permanent neighbour entry, each ping is a frame, whatever the timing.
	ip -n peer neigh replace $DUT_V4 lladdr "$(cat /sys/class/net/$DUT/address)" dev "$PEER" nud permanent
	ip netns exec peer ping -c 200 -i 0.1 -W 1 -q $DUT_V4 >/dev/null 2>&1 &
	ppid=$!
	out=$(vnr-xsk "$DUT" 0 rx 10 15 2>&1) || rc=1
	out=$(echo "$out" | grep -v '^ready$')
	kill $ppid 2>/dev/null
	wait $ppid 2>/dev/null
	ip -n peer neigh del $DUT_V4 dev "$PEER" 2>/dev/null
	log "receive: $out"
	rm -f /tmp/xsk.rx
	ip netns exec peer timeout 20 socat -u UDP-RECV:$port - > /tmp/xsk.rx 2>/dev/null &
	wait_for 10 ip netns exec peer grep -qi ":$(printf %04X $port) " /proc/net/udp ||
		{ log "listener not up"; rc=1; }
	out=$(vnr-xsk "$DUT" 0 tx 10 "$(cat /sys/class/net/$DUT/address)" $PEER_MAC $DUT_V4 $PEER_V4 $port 2>&1) || rc=1
	sleep 2
	kill %1 2>/dev/null
	wait
	got=$(grep -c '^vnr-xsk ' /tmp/xsk.rx 2>/dev/null)
	log "send: $out; the peer received ${got:-0} of 10"
	[ "${got:-0}" -ge 9 ] || rc=1
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping after the socket closed"; rc=1; }
	return $rc
}

# The kernel's own XDP feature test (tools/testing/selftests/bpf/xdp_features.c,
# run as test_xdp_features.sh runs it on a veth pair): its DUT side on our NIC, its
# tester on the peer's. For each verdict and for ndo_xdp_xmit (a cpumap program
# redirecting back to the DUT) the tester sends 10 UDP echo requests and reports
# whether the feature was DETECTED (the DUT's program acted on them, or they came
# back) and ADVERTISED (the DUT's xdp_features). Here every one must be both.
xf_listening() { netstat -tln 2>/dev/null | grep -q ':12345 '; }
t_xdp_features() {
	command -v xdp_features >/dev/null || { log "no xdp_features in the guest"; return 1; }
	local f d t out line dpid rc=0
	for f in XDP_PASS XDP_DROP XDP_ABORTED XDP_TX XDP_REDIRECT XDP_NDO_XMIT; do
		# Half over IPv6, half over IPv4 (mapped addresses), as the kernel's script.
		case $f in
		XDP_PASS | XDP_ABORTED | XDP_REDIRECT) d=$DUT_V6 t=$PEER_V6 ;;
		*) d=::ffff:$DUT_V4 t=::ffff:$PEER_V4 ;;
		esac
		timeout 120 xdp_features -f $f -D $d -T $t "$DUT" >/tmp/xf.dut 2>&1 &
		dpid=$!
		if ! wait_for 30 xf_listening; then
			log "$f: the DUT side is not listening"
			sed 's/^/# /' /tmp/xf.dut
			kill $dpid 2>/dev/null
			wait $dpid 2>/dev/null
			rc=1
			continue
		fi
		out=$(ip netns exec peer timeout 90 xdp_features -t -f $f -D $d -C $d -T $t "$PEER" 2>&1)
		wait $dpid 2>/dev/null
		line=$(echo "$out" | sed "s/$(printf '\033')\[[0-9;]*m//g" | grep '^Feature ')
		if [ -z "$line" ]; then
			log "$f: no verdict from the tester"
			echo "$out" | tail -5 | sed 's/^/# /'
			sed 's/^/# dut: /' /tmp/xf.dut | tail -5
			rc=1
			continue
		fi
		log "$line"
		case "$line" in
		*"[DETECTED][ADVERTISED]") ;;
		*) rc=1 ;;
		esac
		xdp_attached && { log "$f: a program left attached"; xdp_off; rc=1; }
	done
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping afterwards"; rc=1; }
	return $rc
}

# The kernel's AF_XDP selftest xskxceiver (tools/testing/selftests/bpf, as
# test_xsk.sh runs it on a veth pair) between our NIC and the peer's, in driver
# mode and then in skb mode (generic XDP), every one of its tests, once with our
# NIC sending and once receiving. It
# wants both interfaces in one namespace and no frames but its own: the peer's NIC
# comes to the root namespace meanwhile, IPv6 (neighbour discovery, MLD) is off on
# both, the DUT's IPv4 address is gone (an ARP request of the DUT's stack reached
# the receiving socket of a zero-copy TEARDOWN test: 2 runs of 3 failed with
# "payload" mismatches that dumped it), and both are promiscuous (its frames
# carry MAC addresses of its own).
# Each test runs alone (-t N), from MTU 1500: one that aborts (exit_with_error)
# does not take the rest with it, and a multi-buffer test's MTU 9000 left behind
# does not refuse the next one's program.
# A test that fails is run up to twice more: TCG with another guest beside is
# slow enough to miss even the build's 15-s budget (bpf-selftests.sh) now and then
# (with either driver); a fault of the driver fails every run.
# Not run: the tests that fail here with the in-tree driver as well, on either
# side, because this tree's kernel and its selftest disagree, each after waiting
# out its whole budget: the invalid-descriptor tests ALIGNED_INV_DESC,
# ALIGNED_INV_DESC_2K_FRAME_SIZE, ALIGNED_INV_DESC_MULTI_BUFF, TOO_MANY_FRAGS and
# STAT_TX_INVALID (6.12.118's __xsk_generic_xmit puts invalid descriptors in the
# completion ring, xsk_cq_submit_addr_single_locked, which xskxceiver counts as
# sent frames: it stops kicking early, 3 of 5 valid frames go out); STAT_RX_DROPPED
# (its UMEM headroom, 3,648 bytes, is over what this xdp_umem_reg takes for 4 KiB
# frames, 3,392: EINVAL). And two that fail with the in-tree driver on both sides
# too: SEND_RECEIVE_9K_PACKETS (a multi-buffer frame arrives twice, "expected
# pkt_nb N+1, got N", in all 16 runs with the 15-s budget, 4 each way with ours
# and with in-tree on both sides; with 3 s it mostly timed out first) and HW_SW_MAX_RING_SIZE (its receive loop times out in
# every run seen; not analysed further). Each is counted as not run.
XSK_XFAIL=" ALIGNED_INV_DESC ALIGNED_INV_DESC_2K_FRAME_SIZE ALIGNED_INV_DESC_MULTI_BUFF TOO_MANY_FRAGS STAT_TX_INVALID STAT_RX_DROPPED SEND_RECEIVE_9K_PACKETS HW_SW_MAX_RING_SIZE "
xsk_one() { # MODE TX RX N: the KTAP result line of test N
	ip link set "$2" mtu 1500
	ip link set "$3" mtu 1500
	timeout 90 xskxceiver -i "$2" -i "$3" -m $1 -t $4 > /tmp/xsk.out 2>&1
	grep -E '^(not )?ok 1' /tmp/xsk.out | head -1
}
xsk_run() { # MODE TX RX
	local mode=$1 dev
	shift
	# xskxceiver leaves its last program attached, which a test in the other mode
	# cannot replace (EEXIST).
	for dev in "$1" "$2"; do
		ip link set dev "$dev" xdpdrv off
		ip link set dev "$dev" xdpgeneric off
	done
	local i name line again pass=0 fail=0 skip=0 notrun=0 rc=0
	while read -r i name; do
		case "$XSK_XFAIL" in
		*" $name "*)
			notrun=$((notrun + 1))
			continue
			;;
		esac
		line=$(xsk_one $mode "$1" "$2" $i)
		case "$line" in
		ok*SKIP*) skip=$((skip + 1)); log "$mode $1 -> $2: $name: ${line#*SKIP }" ;;
		ok*) pass=$((pass + 1)) ;;
		*)
			log "$mode $1 -> $2: $name: ${line:-no result}"
			grep -v '^ok\|^not ok\|^#  *$' /tmp/xsk.out | tail -4 | sed 's/^/#     /'
			for again in 2 3; do
				line=$(xsk_one $mode "$1" "$2" $i)
				log "$mode $1 -> $2: $name, run $again: ${line:-no result}"
				case "$line" in ok*) break ;; esac
			done
			case "$line" in
			ok*) pass=$((pass + 1)) ;;
			*) fail=$((fail + 1)); rc=1 ;;
			esac
			;;
		esac
	done <<EOF
$(xskxceiver -l 2>/dev/null | sed -n 's/^\([0-9][0-9]*\): /\1 /p')
EOF
	log "$mode $1 -> $2: $pass passed, $fail failed, $skip skipped, $notrun not run (known to fail with this tree)"
	[ $pass -ge 15 ] || rc=1
	return $rc
}
xsk_quiet() { # DEV...: no frames from their stacks (see above), promiscuous
	local dev
	ip -4 addr flush dev "$DUT"
	for dev in "$@"; do
		echo 1 > /proc/sys/net/ipv6/conf/$dev/disable_ipv6
		ip link set "$dev" promisc on up
	done
}
t_xskxceiver() {
	command -v xskxceiver >/dev/null || { log "no xskxceiver in the guest"; return 1; }
	local rc=0 dev
	ip -n peer link set "$PEER" netns 1 || return 1
	xsk_quiet "$DUT" "$PEER"
	xsk_run drv "$DUT" "$PEER" || rc=1
	xsk_run drv "$PEER" "$DUT" || rc=1
	# Generic XDP (skb mode) over the driver's own receive and transmit paths.
	xsk_run skb "$DUT" "$PEER" || rc=1
	xsk_run skb "$PEER" "$DUT" || rc=1
	for dev in "$DUT" "$PEER"; do
		# A test that ends on an error leaves its programs attached.
		ip link set "$dev" xdpdrv off
		ip link set "$dev" xdpgeneric off
		ip link set "$dev" promisc off mtu 1500
		echo 0 > /proc/sys/net/ipv6/conf/$dev/disable_ipv6
	done
	ip addr add $DUT_V4/24 dev "$DUT"
	ip -6 addr add $DUT_V6/64 dev "$DUT" nodad
	ip link set "$PEER" netns peer
	ip -n peer addr add $PEER_V4/24 dev "$PEER"
	ip -n peer link set "$PEER" up
	ip -n peer -6 addr add $PEER_V6/64 dev "$PEER" nodad
	wait_for 10 ping -c 1 -W 1 -q $PEER_V4 >/dev/null || { log "no ping afterwards"; rc=1; }
	wait_for 10 ping -c 1 -W 1 -q $PEER_V6 >/dev/null || { log "no ping6 afterwards"; rc=1; }
	return $rc
}

# AF_XDP zero-copy (xskxceiver -m zc): both ends must take it, so the peer's NIC
# moves to the driver under test for the run, then back. The in-tree driver of
# 6.12 has zero-copy code that nothing reaches (it never advertises it): skip.
t_xsk_zc() {
	[ "$DRV" = virtio_net ] && { log "the in-tree driver of 6.12 offers no zero-copy"; return 4; }
	command -v xskxceiver >/dev/null || { log "no xskxceiver in the guest"; return 1; }
	local rc=0 dev
	killall iperf3 2>/dev/null
	ip netns del peer
	echo "$PEER_VDEV" > /sys/bus/virtio/drivers/$PEER_DRV/unbind
	bind "$PEER_VDEV" "$DRV" || return 1
	PEER=$(netif_of "$PEER_VDEV")
	xsk_quiet "$DUT" "$PEER"
	xsk_run zc "$DUT" "$PEER" || rc=1
	xsk_run zc "$PEER" "$DUT" || rc=1
	for dev in "$DUT" "$PEER"; do
		ip link set "$dev" xdpdrv off
		ip link set "$dev" promisc off mtu 1500
		echo 0 > /proc/sys/net/ipv6/conf/$dev/disable_ipv6
	done
	echo "$PEER_VDEV" > /sys/bus/virtio/drivers/$DRV/unbind
	bind "$PEER_VDEV" "$PEER_DRV" || return 1
	setup_peer || return 1
	ip addr add $DUT_V4/24 dev "$DUT"
	ip -6 addr add $DUT_V6/64 dev "$DUT" nodad 2>/dev/null
	start_peer_iperf
	wait_for 10 ping -c 1 -W 1 -q $PEER_V4 >/dev/null || { log "no ping afterwards"; rc=1; }
	return $rc
}

# On a device where no program can run (matrix: big packets mode; receive offloads
# without the command to turn them off), attaching fails with a message, and the
# interface goes on as before.
t_xdp_refused() {
	local rc=0
	if xdp_on pass 2>/dev/null; then
		log "attached"
		xdp_off
		return 1
	fi
	grep -q . /tmp/xdp.err || { log "refused without a message"; rc=1; }
	log "refused: $(grep -v '^$' /tmp/xdp.err | head -2 | tr '\n' ' ')"
	ping -c 2 -W 5 -q $PEER_V4 >/dev/null || { log "no ping after the refusal"; rc=1; }
	return $rc
}

# Multi-buffer programs (section xdp.frags) at MTU 9000, where a program without
# frags is refused (xdp_refusals): jumbo frames span several receive buffers, and the
# program sees each whole. `frags` drops frames of exactly 8042 bytes in all (pings
# of 8000) by bpf_xdp_get_buff_len() and passes the rest: pings of 8000 unanswered,
# of 7999 answered, 32 MiB of TCP intact. The echo programs answer pings of 8000
# with XDP_TX and by redirect (ndo_xdp_xmit of multi-buffer frames).
t_xdp_frags() {
	local mtu d0 d p0 p got prog rc=0
	[ "$(max_mtu)" -ge 9000 ] || { log "max MTU below 9000"; return 4; }
	mtu=$(cat /sys/class/net/$DUT/mtu)
	ip link set dev "$DUT" mtu 9000 || return 1
	ip -n peer link set "$PEER" mtu 9000 || rc=1
	if xdp_on frags xdp.frags; then
		d0=$(xdp_sum rx xdp_drops) p0=$(xdp_sum rx xdp_packets)
		got=$(peer_pings 5 -s 8000)
		d=$(( $(xdp_sum rx xdp_drops) - d0 ))
		log "frags: pings of 8000: ${got:-0}/5 answered, rx xdp_drops +$d"
		[ "${got:-0}" = 0 ] || rc=1
		[ $d -ge 5 ] || rc=1
		got=$(peer_pings 5 -s 7999)
		log "frags: pings of 7999: ${got:-0}/5 answered"
		[ "${got:-0}" -ge 4 ] || rc=1
		BLOB=/tmp/blob32 BLOB_MB=32 transfer "/usr/bin/ip netns exec peer" "" $DUT_V4 || rc=1
		p=$(( $(xdp_sum rx xdp_packets) - p0 ))
		# 32 MiB in frames of at most 9014 bytes.
		log "frags: $p frames through the program"
		[ $p -ge 3700 ] || rc=1
		xdp_off
	else
		rc=1
	fi
	for prog in tx_frags redirect_frags; do
		xdp_on $prog xdp.frags || { rc=1; continue; }
		p0=$(xdp_sum tx xdp_tx)
		got=$(peer_pings 10 -s 8000)
		p=$(( $(xdp_sum tx xdp_tx) - p0 ))
		xdp_off
		log "$prog: pings of 8000: ${got:-0}/10 answered, tx xdp_tx +$p"
		[ "${got:-0}" -ge 9 ] || rc=1
		[ $p -ge 9 ] || rc=1
	done
	ip -n peer link set "$PEER" mtu 1500
	ip link set dev "$DUT" mtu "$mtu" || rc=1
	wait_for 10 ping -c 1 -W 1 -q $PEER_V4 >/dev/null || { log "no ping at mtu $mtu"; rc=1; }
	return $rc
}

TESTS="rmmod_idle module_bound mac_and_drvinfo features_accepted ethtool_queries tx_header_in_headroom tx_timestamp coalesce link_follows_set_link announce ping4 ping6 tcp_dut_to_peer
tcp_peer_to_dut netconsole system_sleep offloads_used rx_hash rss rss_flow_hash rss_table_kept rss_bulk rx_filter_promisc mac_change failover vlan mtu_change default_pairs every_queue channels_under_traffic ring_resize_under_traffic bql stats_count_traffic xdp_drop xdp_aborted xdp_pass xdp_tx xdp_redirect xdp_refusals xdp_frags xsk_copy xdp_features xskxceiver xsk_zc
down_up_under_traffic rmmod_under_traffic"

# ---- runner ----
echo "TAP version 13"
if [ "$ONLY" = bind_refused ]; then
	echo "1..1"
	load_modules && DUT_VDEV=$(vdev_of $DUT_PCI)
	if t_bind_refused; then echo "ok 1 bind_refused"; exit 0; fi
	echo "not ok 1 bind_refused"
	exit 1
fi
# Tests for other devices than the default one, run only when named (the matrix).
ON_REQUEST="xdp_refused xdp_send_queues"
if [ -n "$ONLY" ]; then run_suite $TESTS $ON_REQUEST; else run_suite $TESTS; fi
