# Shared by the guest scripts: which NIC is which, binding drivers, addresses,
# talking to the host harness, and KTAP output.

DUT_PCI=0000:00:04.0
PEER_PCI=0000:00:05.0
DUT_MAC=52:54:00:12:34:01
PEER_MAC=52:54:00:12:34:02
DUT_V4=192.0.2.1
PEER_V4=192.0.2.2
DUT_V6=2001:db8::1
PEER_V6=2001:db8::2
PEER_DRV=virtio_net

DRV=virtio_net_rust
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vnr.dut=*) DRV=${arg#vnr.dut=} ;;
	esac
done

# busybox sh runs its own applets before binaries on PATH: use the real iproute2.
ip() { /usr/bin/ip "$@"; }

log() { echo "# $*"; }

# Asks the host harness to run a QEMU monitor command.
host_cmd() { echo "@@HOST $*@@"; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
	local t=$(( $1 * 5 )); shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		t=$((t - 1))
	done
	return 1
}

vdev_of() { ls -d /sys/bus/pci/devices/$1/virtio* 2>/dev/null | head -1 | xargs -r basename; }
# The interface of virtio device $1; with STANDBY the failover master sits under
# the same device: the one with lower devices is not it.
netif_of() {
	local n
	for n in $(ls /sys/bus/virtio/devices/$1/net/ 2>/dev/null); do
		ls -d /sys/class/net/$n/lower_* >/dev/null 2>&1 || { echo $n; return; }
	done
}

# Loads the NIC drivers with probing off (the harness binds each device itself), in
# LOAD_ORDER if set (where each module's code lands follows the order).
load_modules() {
	echo 0 > /sys/bus/virtio/drivers_autoprobe
	for m in ${LOAD_ORDER:-failover net_failover virtio_net virtio_net_rust}; do
		grep -q "^$m " /proc/modules || insmod /modules/$m.ko || return 1
	done
}

# bind VDEV DRIVER
bind() {
	[ -e /sys/bus/virtio/drivers/$2/$1 ] && return 0
	echo "$1" > /sys/bus/virtio/drivers/$2/bind
}

setup_dut() {
	DUT=$(netif_of "$DUT_VDEV")
	[ -n "$DUT" ] || { log "no interface on $DUT_VDEV"; return 1; }
	ip addr add $DUT_V4/24 dev "$DUT"
	ip link set "$DUT" up
	ip -6 addr add $DUT_V6/64 dev "$DUT" nodad
}

setup_peer() {
	PEER=$(netif_of "$PEER_VDEV")
	[ -n "$PEER" ] || { log "no interface on $PEER_VDEV"; return 1; }
	ip netns add peer
	ip link set "$PEER" netns peer
	ip -n peer link set lo up
	ip -n peer addr add $PEER_V4/24 dev "$PEER"
	ip -n peer link set "$PEER" up
	ip -n peer -6 addr add $PEER_V6/64 dev "$PEER" nodad
}

setup_all() {
	load_modules || return 1
	DUT_VDEV=$(vdev_of $DUT_PCI)
	PEER_VDEV=$(vdev_of $PEER_PCI)
	bind "$DUT_VDEV" "$DRV" || return 1
	bind "$PEER_VDEV" "$PEER_DRV" || return 1
	setup_peer || return 1
	setup_dut || return 1
	wait_for 30 carrier_up || { log "DUT carrier never came up"; return 1; }
	start_peer_iperf
}

# (Re)starts the peer's iperf3 server. A server whose client vanished with
# its NIC keeps waiting for that test and refuses new ones ("server is busy"),
# so tests that pull the DUT away under traffic start a fresh one.
start_peer_iperf() {
	killall iperf3 2>/dev/null
	wait_for 5 sh -c '! pidof iperf3 >/dev/null' || killall -9 iperf3 2>/dev/null
	ip netns exec peer iperf3 -s -D >/dev/null 2>&1 || return 1
	wait_for 5 sh -c 'pidof iperf3 >/dev/null'
}

# Brings the DUT back after its interface went away (module reload, hot-plug).
rebind_dut() {
	DUT_VDEV=$(vdev_of $DUT_PCI)
	[ -n "$DUT_VDEV" ] || { log "no virtio device at $DUT_PCI"; return 1; }
	bind "$DUT_VDEV" "$DRV" || return 1
	setup_dut || return 1
	wait_for 30 carrier_up || { log "no carrier"; return 1; }
	wait_for 30 ping -c 1 -W 1 $PEER_V4 || { log "no ping"; return 1; }
}

# The DUT's largest MTU, as the driver announced it.
max_mtu() { ip -d link show "$DUT" | sed -n 's/.*maxmtu \([0-9]*\).*/\1/p'; }

carrier_up() { [ "$(cat /sys/class/net/$DUT/carrier 2>/dev/null)" = 1 ]; }
carrier_down() { [ "$(cat /sys/class/net/$DUT/carrier 2>/dev/null)" = 0 ]; }

# Kernel log patterns that fail the test that produced them.
SPLAT='WARNING:|BUG:|Oops|general protection|Kernel panic|possible recursive locking|possible circular locking|inconsistent lock state|KASAN|UBSAN|refcount_t:|list_add corruption|list_del corruption|sleeping function called from invalid context|NOHZ tick-stop error|hung_task|soft lockup|rcu_sched self-detected'

# Prints the kernel stacks of tasks in uninterruptible sleep (for hang reports).
dump_blocked() {
	local p
	for p in /proc/[0-9]*; do
		grep -q '^State:.*D' $p/status 2>/dev/null || continue
		echo "# task $(cat $p/comm) ($(basename $p)):"
		sed 's/^/#   /' $p/stack
	done
}

BLOB=/tmp/blob
make_blob() {
	[ -f $BLOB.sum ] && return 0
	head -c $((BLOB_MB * 1048576)) /dev/urandom > $BLOB || return 1
	sha256sum < $BLOB | cut -d' ' -f1 > $BLOB.sum
}

# transfer SENDER_NS RECEIVER_NS RECEIVER_ADDR: the BLOB_MB MiB blob over TCP,
# checksummed.
transfer() {
	local snd=$1 rcv=$2 addr=$3 port=$((5000 + $$ % 1000))
	make_blob || return 1
	rm -f /tmp/recv.sum
	$rcv sh -c "socat -u TCP-LISTEN:$port,reuseaddr STDOUT | sha256sum | cut -d' ' -f1 > /tmp/recv.sum" &
	local lpid=$!
	wait_for 10 sh -c "$rcv netstat -ltn | grep -q :$port" || { log "listener not up"; kill $lpid; return 1; }
	local t0=$(date +%s)
	if ! timeout 200 $snd socat -u FILE:$BLOB TCP:$addr:$port; then
		log "sender failed or stalled; DUT counters:"
		ethtool -S "$DUT" 2>&1 | grep -v ': 0$' | sed 's/^/#   /'
		ip -s link show "$DUT" | sed 's/^/#   /'
		kill $lpid
		return 1
	fi
	wait $lpid
	local t1=$(date +%s)
	log "$BLOB_MB MiB in $((t1 - t0)) s, sha256 $(cat $BLOB.sum) vs $(cat /tmp/recv.sum 2>/dev/null)"
	[ "$(cat /tmp/recv.sum 2>/dev/null)" = "$(cat $BLOB.sum)" ]
}

# Per-queue counter NAME of the DUT from ethtool -S (empty if the driver has none).
stat_of() { ethtool -S "$DUT" 2>/dev/null | sed -n "s/^ *$1: //p"; }
# stat_sum DIR NAME: DIR<N>_NAME summed over every queue (a multiqueue device
# spreads flows over them).
stat_sum() { ethtool -S "$DUT" 2>/dev/null | sed -n "s/^ *$1[0-9]*_$2: //p" | awk '{s += $1} END {print s + 0}'; }
# combined channels from ethtool -l: "max" or "cur".
channels() {
	case $1 in
	max) ethtool -l "$DUT" | sed -n '/maximums/,/Current/s/^Combined:[[:space:]]*//p' ;;
	cur) ethtool -l "$DUT" | sed -n '/Current/,$s/^Combined:[[:space:]]*//p' ;;
	esac
}

# ring ITEM: "rx", "tx", "rxmax" or "txmax" from ethtool -g.
ring() {
	case $1 in
	rxmax) ethtool -g "$DUT" | sed -n '/maximums/,/Current/s/^RX:[[:space:]]*//p' ;;
	txmax) ethtool -g "$DUT" | sed -n '/maximums/,/Current/s/^TX:[[:space:]]*//p' ;;
	rx) ethtool -g "$DUT" | sed -n '/Current/,$s/^RX:[[:space:]]*//p' ;;
	tx) ethtool -g "$DUT" | sed -n '/Current/,$s/^TX:[[:space:]]*//p' ;;
	esac
}


# run_suite TEST...: the KTAP runner. Sets up both NICs, then runs t_NAME for each
# test (all of them, or those in vnr.only=), fails a test whose run left a splat in
# the kernel log, and calls after_test (if defined) after each one.
run_suite() {
	local selected= t t0 n=0 i=0 failed=0 rc splat
	for t in "$@"; do
		[ -z "$ONLY" ] || echo ",$ONLY," | grep -q ",$t," || continue
		selected="$selected $t"
		n=$((n + 1))
	done
	echo "1..$n"
	log "device under test: driver $DRV"
	if ! setup_all; then
		log "setup failed"
		dmesg | tail -30 | sed 's/^/# /'
		for t in $selected; do i=$((i + 1)); echo "not ok $i $t # setup failed"; done
		exit 1
	fi
	dmesg -c >/dev/null
	log "DUT $DUT ($DUT_VDEV), peer $PEER ($PEER_VDEV)"
	command -v before_suite >/dev/null && before_suite
	for t in $selected; do
		i=$((i + 1))
		log "-- $t"
		t0=$(date +%s)
		t_$t
		rc=$?
		log "$t: $(( $(date +%s) - t0 )) s"
		command -v after_test >/dev/null && { after_test || rc=1; }
		splat=$(dmesg -c | grep -E "$SPLAT")
		if [ -n "$splat" ]; then
			echo "$splat" | sed 's/^/# splat: /'
			rc=1
		fi
		case $rc in
		0) echo "ok $i $t" ;;
		4) echo "ok $i $t # SKIP" ;;
		*) echo "not ok $i $t"; failed=$((failed + 1)) ;;
		esac
	done
	exit $((failed > 0))
}

# Debug kernels: forget the leaks so far (the suites call it before their tests).
kmemleak_start() {
	[ -w /sys/kernel/debug/kmemleak ] || { log "no kmemleak in this kernel"; return 0; }
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
}

# kmemleak scan: leaks whose allocation backtrace runs through the driver fail the test; others
# (the rest of the kernel, the test tools) are printed only.
kmemleak_check() {
	local f=/sys/kernel/debug/kmemleak
	[ -w $f ] || return 0
	echo scan > $f; sleep 1; echo scan > $f
	cat $f > /tmp/leaks
	echo clear > $f
	[ -s /tmp/leaks ] || return 0
	log "kmemleak: $(grep -c '^unreferenced object' /tmp/leaks) unreferenced objects"
	head -60 /tmp/leaks | sed 's/^/#   /'
	! grep -q "\[$DRV\]" /tmp/leaks
}

# watchdog_fired SECONDS: the transmit watchdog fired within SECONDS and (where the
# driver has per-queue counters) the timeout was counted. Logs what it saw.
watchdog_fired() {
	local rc=0 to
	wait_for "$1" sh -c "dmesg | grep -q 'NETDEV WATCHDOG'" || { log "the watchdog never fired"; rc=1; }
	dmesg | grep -E 'NETDEV WATCHDOG|TX timeout|tx_timeout' | head -3 | sed 's/^/#   /'
	to=$(stat_sum tx tx_timeouts)
	log "tx_timeouts counted: $to"
	[ -z "$(stat_of tx0_tx_timeouts)" ] || [ "$to" -ge 1 ] || rc=1
	return $rc
}

# down_and_unbind: the DUT down and unbound, each within 60 s (they must not wait
# for buffers a device holds); logs how long it took.
down_and_unbind() {
	local t0
	t0=$(date +%s)
	timeout 60 ip link set "$DUT" down || { log "ip link down hangs"; dump_blocked; return 1; }
	timeout 60 sh -c "echo $DUT_VDEV > /sys/bus/virtio/drivers/$DRV/unbind" ||
		{ log "unbind hangs"; dump_blocked; return 1; }
	log "down and unbound in $(( $(date +%s) - t0 )) s"
}
