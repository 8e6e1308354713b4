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
netif_of() { ls /sys/bus/virtio/devices/$1/net/ 2>/dev/null | head -1; }

load_modules() {
	echo 0 > /sys/bus/virtio/drivers_autoprobe
	for m in failover net_failover virtio_net virtio_net_rust; do
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
