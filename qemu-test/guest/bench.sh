#!/bin/sh
# `make bench`, guest side: measures our driver and the in-tree virtio_net on the
# same NIC pair in the same guest, swapping only the driver of the device under
# test (unbind/bind) between the two runs of each workload (see the main loop
# for who goes first).
# Prints one line per measurement:
#
#   @@B drv=<driver> round=<n> wl=<workload> key=value...
#
# Round 0 is the warm-up; the host's report drops it. The peer NIC always runs the
# in-tree driver in netns "peer", so what differs between A and B is the DUT only.
. /tests/lib.sh

ROUNDS=6
# Measured rounds FROM..ROUNDS (after warm-up round 0): with several boots per
# queue-pair count, each boot measures its share and the numbering goes on.
FROM=1
PERF_WL=
PERF_SYM=
TRACE_WL=
# vnr.pin=D,P (host: VNR_BENCH_PIN): the vCPUs of the DUT side's and the peer side's
# iperf3 and sockperf; empty: the scheduler places them.
PIN=
INSNS=0
SYMS=0
SECS=3
WORKLOADS="tcp1_tx tcp1_rx tcp4_tx tcp4_rx udp64_tx udp64_rx rr_tcp_tx rr_tcp_rx rr_udp_tx rr_udp_rx xdp_drop xdp_tx xsk_copy_rx xsk_zc_rx xsk_copy_tx xsk_zc_tx"
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vnr.rounds=*) ROUNDS=${arg#vnr.rounds=} ;;
	vnr.from=*) FROM=${arg#vnr.from=} ;;
	vnr.secs=*) SECS=${arg#vnr.secs=} ;;
	vnr.perf=*) PERF_WL=${arg#vnr.perf=} ;;
	vnr.perfsym=*) PERF_SYM=${arg#vnr.perfsym=} ;;
	vnr.trace=*) TRACE_WL=${arg#vnr.trace=} ;;
	vnr.insns=1) INSNS=1 ;;
	vnr.insns=tbs) INSNS=1 SYMS=1 ;;
	vnr.workloads=*) WORKLOADS=$(echo "${arg#vnr.workloads=}" | tr , ' ') ;;
	vnr.peer=*) PEER_DRV=${arg#vnr.peer=} ;;
	vnr.ours_first=1) OURS_FIRST=1 ;;
	vnr.pin=*) PIN=${arg#vnr.pin=} ;;
	esac
done
DRIVERS="virtio_net_rust virtio_net"

say() { echo "# bench: $*"; }
out() { echo "@@B drv=$CUR round=$ROUND wl=$*"; }

# ---- counters ----

# Sums of the DUT's per-queue ethtool counters by kind (rx0_kicks + rx1_kicks ->
# rx_kicks). Both drivers name kicks, packets and bytes the same way; the rest
# are ours and absent for the in-tree driver.
ethsums() {
	ethtool -S "$DUT" 2>/dev/null | awk '
		{ gsub(/^[ \t]+|:/, "", $1) }
		match($1, /^(rx|tx)[0-9]+_/) {
			k = substr($1, 1, 2) "_" substr($1, RLENGTH + 1); s[k] += $2
		}
		END { for (k in s) print k, s[k] }'
}
ETH_KEYS="rx_packets rx_kicks rx_bufs rx_bufs_reused rx_interrupts rx_napi_polls tx_napi_polls tx_packets tx_kicks tx_kicks_suppressed tx_xmit_more tx_interrupts tx_hdr_separate tx_stops tx_wakes"

# With vnr.insns=1 (the instruction-counting plugin loaded), mark: has QEMU log
# the guest's instruction totals (qemu-test/insns) and counts the marks in
# /tmp/marks (a file: `counters` runs in a subshell), so the host pairs its log
# with the measurements (insns_from/insns_to).
mark() {
	[ $INSNS = 1 ] || return 0
	/usr/bin/vnr-mark
	echo $(( $(cat /tmp/marks 2>/dev/null || echo 0) + 1 )) > /tmp/marks
}

# qmark: has the host (qemu-test/vm.py) note QEMU's own CPU time now: @@QCPU N@@ on
# the console, answered with an @@Q line in the host's output, numbered in /tmp/qmarks
# like mark's, so that each measurement gets QEMU's host CPU time over its window
# (host_vcpu_s: the vCPU threads; host_other_s: the rest, device emulation and tap
# I/O, which no guest-side count sees). On stderr: `counters` runs in `$(...)`.
qmark() {
	local n=$(( $(cat /tmp/qmarks 2>/dev/null || echo 0) + 1 ))
	echo $n > /tmp/qmarks
	echo "@@QCPU $n@@" >&2
}

# sample FILE: every counter the measurements use, one "key value" per line, in
# three processes (ethtool, the peer's namespace, one awk): process start-up is
# slow under TCG, and the CPU time it takes at the window's edges is counted.
# cpu_tick: busy time of the whole guest (the DUT's and the peer's side) as the tick
# samples it, in 1/100 s (USER_HZ): user+nice+system+irq+softirq+steal; pc_busy_cN
# the same per CPU, split in pc_user/sys/softirq_cN; pc_idle_cN: idle+iowait, timed
# exactly (NOHZ: from idle entry and exit, not sampled); wall: /proc/uptime.
# counters() reports cpu_s from the exact ones, the window times the CPUs minus their
# idle time: the tick samples were 20-37 % lower in request/response (medians per
# workload; a few per cent in TCP streams) and, on one CPU, added up with idle to
# more than the window (busy+idle 32.6 against a window of 31.9, the other CPU 27.7,
# per 1,000 packets of one rr_udp_rx run). pc_loc/res/cal_cN: local timer interrupts,
# rescheduling and function-call IPIs per CPU.
# tcp_*: the DUT side's TCP counters (/proc/net/snmp, /proc/net/netstat) named in
# TCP_KEYS: segments in and out, and why acknowledgments went out or were held.
# irqs: the DUT's virtqueue interrupts (both drivers name them virtioN-input.M /
# virtioN-output.M), pc_irq_in_cN / pc_irq_out_cN per CPU, to see where they land.
TCP_KEYS='^(InSegs|OutSegs|RetransSegs|DelayedACKs|DelayedACKLocked|TCPHPHits|TCPPureAcks|TCPHPAcks|TCPRcvCoalesce|TCPBacklogCoalesce|TCPOFOQueue|TCPAutoCorking|TCPWantZeroWindowAdv|TCPToZeroWindowAdv|TCPFromZeroWindowAdv|TCPRcvQDrop|TCPACKSkippedSeq)$'
sample() {
	ethtool -S "$DUT" > /tmp/eth.raw 2>/dev/null
	ip netns exec peer cat /sys/class/net/$PEER/statistics/tx_packets \
		/sys/class/net/$PEER/statistics/rx_packets > /tmp/peer.raw
	local st=/sys/class/net/$DUT/statistics
	awk -v d="$DUT_VDEV-" -v st="$st/" -v tcpk="$TCP_KEYS" '
		FILENAME == "/proc/stat" && /^cpu / { print "cpu_tick", $2 + $3 + $4 + $7 + $8 + $9 }
		FILENAME == "/proc/stat" && /^cpu[0-9]/ {
			c = substr($1, 4)
			print "pc_busy_c" c, $2 + $3 + $4 + $7 + $8 + $9
			print "pc_user_c" c, $2 + $3
			print "pc_sys_c" c, $4
			print "pc_softirq_c" c, $8
			print "pc_idle_c" c, $5 + $6
		}
		FILENAME == "/proc/meminfo" && /^Slab:/ { print "slab", $2 }
		FILENAME == "/proc/uptime" { printf "wall %d\n", $1 * 100 + 0.5 }
		FILENAME == "/proc/interrupts" && $1 ~ /^(LOC|RES|CAL):$/ {
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) print "pc_" tolower(substr($1, 1, 3)) "_c" i - 2, $i
		}
		FILENAME == "/proc/interrupts" && index($0, d) {
			k = ($NF ~ /input/) ? "in" : ($NF ~ /output/) ? "out" : ""
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) {
				irqs += $i
				if (k != "") pc["pc_irq_" k "_c" i - 2] += $i
			}
		}
		FILENAME == "/tmp/eth.raw" {
			# Per-queue ethtool counters summed by kind: rx0_kicks + rx1_kicks -> eth_rx_kicks.
			k = $1; gsub(/^[ \t]+|:/, "", k)
			if (match(k, /^(rx|tx)[0-9]+_/)) eth["eth_" substr(k, 1, 2) "_" substr(k, RLENGTH + 1)] += $2
		}
		FILENAME == "/tmp/peer.raw" { print (FNR == 1 ? "peer_tx_pkts" : "peer_rx_pkts"), $1 }
		# A header line of names, then one of values, per protocol.
		FILENAME ~ /^\/proc\/net\// && $1 ~ /^Tcp(Ext)?:$/ {
			if (line[FILENAME, $1]++ % 2 == 0) {
				for (i = 2; i <= NF; i++) name[i] = $i
				next
			}
			for (i = 2; i <= NF; i++) if (name[i] ~ tcpk) print "tcp_" name[i], $i
		}
		index(FILENAME, st) == 1 { print "dut_" substr(FILENAME, length(st) + 1), $1 }
		END {
			print "irqs", irqs + 0
			for (k in pc) print k, pc[k]
			for (k in eth) print k, eth[k]
		}' /proc/uptime /proc/stat /proc/meminfo /proc/interrupts /tmp/eth.raw /tmp/peer.raw \
		/proc/net/snmp /proc/net/netstat \
		$st/tx_packets $st/rx_packets $st/tx_bytes $st/rx_bytes > "$1"
}

# snap: remembers the counters; counters: prints key=value for everything that
# grew since snap.
snap() {
	sample /tmp/s.before
	mark
	S_MARK=$(cat /tmp/marks 2>/dev/null)
	qmark
	Q_MARK=$(cat /tmp/qmarks)
}
counters() {
	qmark
	echo "qcpu_from=$Q_MARK qcpu_to=$(cat /tmp/qmarks)"
	mark
	[ $INSNS = 1 ] && echo "insns_from=$S_MARK insns_to=$(cat /tmp/marks)"
	sample /tmp/s.after
	awk -v keys="$ETH_KEYS" 'FNR == NR { b[$1] = $2; next } { a[$1] = $2 }
		END {
			for (k in a) if (k ~ /^(pc|tcp)_/) print k "=" a[k] - b[k]
			printf "cpu_tick_s=%.2f\n", (a["cpu_tick"] - b["cpu_tick"]) / 100
			wall = a["wall"] - b["wall"]
			print "wall_s=" wall / 100
			busy = 0
			for (k in a) if (k ~ /^pc_idle_c/) busy += wall - (a[k] - b[k])
			printf "cpu_s=%.2f\n", busy / 100
			split("dut_tx_pkts:tx_packets dut_rx_pkts:rx_packets dut_tx_bytes:tx_bytes dut_rx_bytes:rx_bytes", m, " ")
			for (i = 1; i <= 4; i++) { split(m[i], kv, ":"); print kv[1] "=" a["dut_" kv[2]] - b["dut_" kv[2]] }
			print "peer_tx_pkts=" a["peer_tx_pkts"] - b["peer_tx_pkts"]
			print "peer_rx_pkts=" a["peer_rx_pkts"] - b["peer_rx_pkts"]
			print "slab_kb=" a["slab"] - b["slab"]
			print "irqs=" a["irqs"] - b["irqs"]
			n = split(keys, k, " ")
			for (i = 1; i <= n; i++) if (("eth_" k[i]) in a) print "eth_" k[i] "=" a["eth_" k[i]] - b["eth_" k[i]]
		}' /tmp/s.before /tmp/s.after
}

# ---- workloads ----

# iperf3 TCP: tcp FLOWS DIRECTION(tx|rx)
w_tcp() {
	local flows=$1 rev= line
	[ "$2" = rx ] && rev=-R
	snap
	line=$(iperf3 -c $PEER_V4 -t $SECS -P $flows $rev ${PIN:+-A $PIN} -f m 2>&1 | grep -E 'receiver$' | tail -1)
	set -- $(counters)
	out "$WL mbps=$(echo "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }') $*"
}

# Kernel pktgen flood of 64-byte UDP frames: pktgen NETNS IFACE DST_IP DST_MAC.
# Runs for SECS seconds; the caller reads the interfaces' counters around it.
pktgen() {
	local ns=$1 dev=$2 ip=$3 mac=$4 run=sh
	[ "$ns" = - ] || run="ip netns exec $ns sh"
	$run -c "
		pg() { echo \"\$2\" > /proc/net/pktgen/\$1; }
		pg kpktgend_0 rem_device_all
		pg kpktgend_0 'add_device $dev'
		pg $dev 'count 0'
		pg $dev 'pkt_size 64'
		pg $dev 'delay 0'
		pg $dev 'dst $ip'
		pg $dev 'dst_mac $mac'
		pg $dev 'udp_dst_min 9'
		pg $dev 'udp_dst_max 9'
		pg pgctrl start &
		sleep $SECS
		pg pgctrl stop
		wait
		pg kpktgend_0 rem_device_all"
}

w_udp64() {
	snap
	if [ "$1" = tx ]; then
		pktgen - "$DUT" $PEER_V4 $PEER_MAC
	else
		pktgen peer "$PEER" $DUT_V4 $DUT_MAC
	fi
	set -- $(counters)
	out "$WL secs=$SECS $*"
}

# XDP: the peer floods 64-byte UDP frames at the DUT, whose program PROG drops
# them (xdp_drop) or sends them back (xdp_tx, /xdp/reflect.o). The stack never
# sees them, so the packets counted are the frames the program ran on (the sum of
# rxN_xdp_packets, which both drivers keep): dut_rx_pkts, with dut_tx_pkts 0.
xdp_packets() { ethtool -S "$DUT" 2>/dev/null | sed -n 's/^ *rx[0-9][0-9]*_xdp_packets: //p' | awk '{s += $1} END {print s + 0}'; }
w_xdp() {
	local x0 c
	ip link set dev "$DUT" xdpdrv obj "/xdp/$1.o" sec xdp || { say "cannot attach /xdp/$1.o"; return 1; }
	x0=$(xdp_packets)
	snap
	pktgen peer "$PEER" $DUT_V4 $DUT_MAC
	c=$(counters)
	c=$(echo "$c" | sed -e "s/^dut_rx_pkts=.*/dut_rx_pkts=$(( $(xdp_packets) - x0 ))/" -e 's/^dut_tx_pkts=.*/dut_tx_pkts=0/')
	ip link set dev "$DUT" xdpdrv off
	out "$WL secs=$SECS $(echo $c)"
}

# AF_XDP: a socket on queue 0 (qemu-test/xdp/xsk.c), in copy mode or zero-copy,
# receives the peer's 64-byte UDP flood (xsk_*_rx) or floods the peer with
# 64-byte frames (xsk_*_tx), for SECS seconds. One pair is in use for the run, so
# that every frame meets the socket's queue. dut_rx_pkts or dut_tx_pkts: the
# frames the socket received or sent (its own count), the other 0. The in-tree
# driver of 6.12 cannot do zero-copy: no row. xsk MODE DIRECTION
w_xsk() {
	local pairs n c xpid rc=0
	if [ "$1" = zc ] && [ "$CUR" = virtio_net ]; then
		say "$WL: the in-tree driver of 6.12 offers no zero-copy"
		return 0
	fi
	pairs=$(ethtool -l "$DUT" 2>/dev/null | awk '/^Current/ { c = 1 } c && /^Combined/ { print $2; exit }')
	[ "${pairs:-1}" -gt 1 ] && ethtool -L "$DUT" combined 1
	if [ "$2" = rx ]; then
		VNR_XSK_MODE=$1 vnr-xsk "$DUT" 0 rx 2000000000 $((SECS + 30)) > /tmp/xsk.n 2>&1 &
		xpid=$!
		wait_for 20 grep -q '^ready' /tmp/xsk.n || { say "$WL: no socket"; rc=1; }
		snap
		pktgen peer "$PEER" $DUT_V4 $DUT_MAC
		c=$(counters)
		kill -INT $xpid 2>/dev/null
		wait $xpid
		n=$(sed -n 's/^rx \([0-9]*\)$/\1/p' /tmp/xsk.n)
		c=$(echo "$c" | sed -e "s/^dut_rx_pkts=.*/dut_rx_pkts=${n:-0}/" -e 's/^dut_tx_pkts=.*/dut_tx_pkts=0/')
	else
		snap
		VNR_XSK_MODE=$1 vnr-xsk "$DUT" 0 tx 2000000000 $DUT_MAC $PEER_MAC $DUT_V4 $PEER_V4 9 $SECS > /tmp/xsk.n 2>&1
		c=$(counters)
		n=$(sed -n 's/^tx \([0-9]*\) completed$/\1/p' /tmp/xsk.n)
		c=$(echo "$c" | sed -e "s/^dut_tx_pkts=.*/dut_tx_pkts=${n:-0}/" -e 's/^dut_rx_pkts=.*/dut_rx_pkts=0/')
	fi
	[ -n "$n" ] || { say "$WL: $(head -2 /tmp/xsk.n)"; rc=1; }
	[ "${pairs:-1}" -gt 1 ] && ethtool -L "$DUT" combined "$pairs"
	[ $rc = 0 ] && out "$WL secs=$SECS $(echo $c)"
	return $rc
}

# sockperf ping-pong: rr PROTO(tcp|udp) DIRECTION (tx: the DUT's side is the
# client, rx: the peer's side is the client and the DUT answers). The window
# opens half a second after the client starts, past its process start-up (page
# clearing, faults, library loading: thousands of instructions per packet of the
# window if counted there), so CPU time and packets are steady-state figures;
# sockperf's own latency figures leave out its first 400 ms anyway.
w_rr() {
	local proto= srv cli res pd= pp=
	[ "$1" = tcp ] && proto=--tcp
	[ -n "$PIN" ] && pd="taskset -c ${PIN%,*}" pp="taskset -c ${PIN#*,}"
	if [ "$2" = tx ]; then
		ip netns exec peer $pp sockperf sr $proto -i $PEER_V4 -p 11111 >/dev/null 2>&1 &
		srv=$!
		sleep 1
		$pd sockperf pp $proto -i $PEER_V4 -p 11111 -t $SECS > /tmp/rr.out 2>&1 &
		cli=$!
		DUT_PID=$cli
	else
		$pd sockperf sr $proto -i $DUT_V4 -p 11111 >/dev/null 2>&1 &
		srv=$!
		DUT_PID=$srv
		sleep 1
		ip netns exec peer $pp sockperf pp $proto -i $DUT_V4 -p 11111 -t $SECS > /tmp/rr.out 2>&1 &
		cli=$!
	fi
	sleep 0.5
	snap
	wait $cli
	res=$(cat /tmp/rr.out)
	set -- $(counters)
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
	out "$WL $(echo "$res" | awk '
		/percentile 50.000 =/ { p50 = $NF }
		/percentile 99.000 =/ { p99 = $NF }
		/SentMessages=/ { for (i = 1; i <= NF; i++) if ($i ~ /^SentMessages=/) { split($i, a, "="); n = a[2]; sub(/;$/, "", n) } }
		END { printf "p50_us=%s p99_us=%s msgs=%s", p50, p99, n }') $*"
}

# With vnr.trace=WORKLOAD[,WORKLOAD] (request/response ones), the last round records
# tracepoints during that workload and splits each transaction, as the DUT sees
# it, into segments: its receive interrupt -> the packet entering the stack
# (driver RX + NAPI + GRO; split into irq -> NET_RX softirq on that CPU and that
# softirq -> the packet in the stack), -> the DUT-side sockperf scheduled in (wakeup), ->
# its transmit reaching the driver (user space + stack), -> the driver done with
# it (start_xmit incl. doorbell), -> the next receive interrupt (QEMU, host, the
# peer). Prints "# trace DRIVER WORKLOAD segment n= p50= p90= p99= mean=" in us.
trace_workload() {
	local ev="-e irq:irq_handler_entry -e irq:softirq_entry -e net:netif_receive_skb -e net:net_dev_start_xmit -e net:net_dev_xmit -e sched:sched_switch"
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	echo -1 > /proc/sys/kernel/perf_event_paranoid
	/usr/bin/perf record -q -a $ev -o /tmp/tr.data -- sleep $((SECS + 2)) 2>/tmp/tr.err &
	local pp=$!
	sleep 0.3
	run_workload_ $1
	wait $pp
	/usr/bin/perf script -i /tmp/tr.data -F cpu,time,event,trace 2>/dev/null | awk \
		-v irq="name=$DUT_VDEV-input" -v dev="dev=$DUT " -v pid="next_pid=$DUT_PID " '
		{
			t = -1; ev = ""
			for (i = 1; i <= NF; i++) {
				if (t < 0 && $i ~ /^[0-9]+\.[0-9]+:$/) t = substr($i, 1, length($i) - 1) * 1e6
				else if ($i ~ /^(irq|net|sched):[a-z_]+:$/) { ev = substr($i, 1, length($i) - 1); break }
			}
			if (t < 0 || ev == "") next
			line = $0 " "
		}
		ev == "irq:irq_handler_entry" && index(line, irq) {
			if (st == 5) print "host_and_peer", t - t_x
			st = 1; t_irq = t; cpu = $1; t_sirq = -1; next
		}
		ev == "irq:softirq_entry" && st == 1 && t_sirq < 0 && $1 == cpu && index(line, "[action=NET_RX]") {
			t_sirq = t; next
		}
		ev == "net:netif_receive_skb" && st == 1 && index(line, dev) {
			print "rx_irq_to_stack", t - t_irq
			if (t_sirq >= 0) {
				print "rx_irq_to_softirq", t_sirq - t_irq
				print "rx_softirq_to_stack", t - t_sirq
			}
			st = 2; t_rx = t; next
		}
		ev == "sched:sched_switch" && st == 2 && index(line, pid) {
			print "stack_to_task", t - t_rx; st = 3; t_run = t; next
		}
		ev == "net:net_dev_start_xmit" && (st == 2 || st == 3) && index(line, dev) {
			if (st == 3) print "task_to_xmit", t - t_run
			print "stack_to_xmit", t - t_rx
			st = 4; t_sx = t; next
		}
		ev == "net:net_dev_xmit" && st == 4 && index(line, dev) {
			print "xmit", t - t_sx; st = 5; t_x = t
			if (t_prev_irq) print "transaction", t_irq - t_prev_irq
			t_prev_irq = t_irq; next
		}' | sort -k1,1 -k2,2n | awk -v tag="# trace $CUR $1:" '
		function flush() {
			if (n) printf "%s %s n=%d p50=%.1f p90=%.1f p99=%.1f mean=%.1f\n", tag, k, n, v[int((n - 1) * 0.5) + 1], v[int((n - 1) * 0.9) + 1], v[int((n - 1) * 0.99) + 1], sum / n
		}
		$1 != k { flush(); k = $1; n = 0; sum = 0 }
		{ v[++n] = $2; sum += $2 }
		END { flush() }'
	[ -s /tmp/tr.err ] && sed "s/^/# trace $CUR $1: perf: /" /tmp/tr.err | head -5
}

# With vnr.perf=WORKLOAD, the last round profiles that workload (cpu-clock
# samples of the whole guest) and prints the top symbols per driver.
run_workload() {
	case ",$TRACE_WL," in
	*",$1,"*)
		if [ $ROUND = $ROUNDS ] && [ -x /usr/bin/perf ]; then
			trace_workload $1
			return
		fi ;;
	esac
	if [ "$1" = "$PERF_WL" ] && [ $ROUND = $ROUNDS ] && [ -x /usr/bin/perf ]; then
		echo 0 > /proc/sys/kernel/kptr_restrict
		echo -1 > /proc/sys/kernel/perf_event_paranoid
		/usr/bin/perf record -q -a ${PERF_SYM:+-g} -e cpu-clock -F 2000 -o /tmp/perf.data -- sleep $((SECS + 1)) 2>/dev/null &
		local pp=$!
		sleep 0.3
		run_workload_ $1
		wait $pp
		/usr/bin/perf report -i /tmp/perf.data --stdio --no-children --sort sym ${PERF_SYM:+-g none} 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -40 | sed "s/^/# perf $CUR $1: /"
		# With vnr.perfsym=SYMBOL, also who calls it (call chains, frame pointers).
		[ -n "$PERF_SYM" ] && /usr/bin/perf report -i /tmp/perf.data --stdio --no-children \
			-S "$PERF_SYM" -G 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 |
			sed "s/^/# perf $CUR $1 $PERF_SYM: /"
		return
	fi
	run_workload_ $1
}

run_workload_() {
	WL=$1
	case $WL in
	tcp1_tx) w_tcp 1 tx ;;
	tcp1_rx) w_tcp 1 rx ;;
	tcp4_tx) w_tcp 4 tx ;;
	tcp4_rx) w_tcp 4 rx ;;
	udp64_tx) w_udp64 tx ;;
	udp64_rx) w_udp64 rx ;;
	rr_tcp_tx) w_rr tcp tx ;;
	rr_tcp_rx) w_rr tcp rx ;;
	rr_udp_tx) w_rr udp tx ;;
	rr_udp_rx) w_rr udp rx ;;
	xdp_drop) w_xdp drop ;;
	xdp_tx) w_xdp reflect ;;
	xsk_copy_rx) w_xsk copy rx ;;
	xsk_copy_tx) w_xsk copy tx ;;
	xsk_zc_rx) w_xsk zc rx ;;
	xsk_zc_tx) w_xsk zc tx ;;
	*) say "unknown workload $WL"; return 1 ;;
	esac
}

# ---- driver swap ----

# use DRIVER: binds the DUT to DRIVER (unbinding the other), brings it up.
use() {
	local d
	for d in $DRIVERS; do
		[ "$d" = "$1" ] && continue
		[ -e /sys/bus/virtio/drivers/$d/$DUT_VDEV ] &&
			echo "$DUT_VDEV" > /sys/bus/virtio/drivers/$d/unbind
	done
	bind "$DUT_VDEV" "$1" || return 1
	CUR=$1
	setup_dut || return 1
	wait_for 30 carrier_up || { say "carrier never came up with $1"; return 1; }
	# Neighbours resolved before measuring.
	ping -c 1 -W 5 $PEER_V4 >/dev/null || return 1
}

# Bytes of receive buffers posted to the device at rest, all queues. Ours keeps
# the exact sum (ethtool rxN_buf_bytes); for the in-tree driver it is each ring's
# size times the buffer size it posts now (sysfs mergeable_rx_buffer_size: the
# size its next buffers get, which the ones posted were sized like).
rx_posted_bytes() {
	local q sum=0 ring
	if [ "$CUR" = virtio_net_rust ]; then
		# (Not in a control run, where the in-tree driver's copy has our name.)
		sum=$(ethsums | awk '$1 == "rx_buf_bytes" { print $2 }')
		[ -n "$sum" ] && { echo $sum; return; }
		sum=0
	fi
	ring=$(ethtool -g "$DUT" | sed -n '/Current/,$s/^RX:[[:space:]]*//p')
	for q in /sys/class/net/$DUT/queues/rx-*/virtio_net/mergeable_rx_buffer_size; do
		[ -r "$q" ] || { echo 0; return; }
		sum=$((sum + ring * $(cat $q)))
	done
	echo $sum
}

# ---- main ----

# With vnr.ours_first=1 ours loads before the in-tree module (a placement check).
[ "${OURS_FIRST:-0}" = 1 ] && LOAD_ORDER="failover net_failover virtio_net_rust virtio_net"
load_modules || exit 1
# The peer's driver, when not the in-tree module (vnr.peer: a copy of it).
if ! grep -q "^$PEER_DRV " /proc/modules; then
	insmod /modules/$PEER_DRV.ko || { say "no $PEER_DRV"; exit 1; }
fi
insmod /modules/pktgen.ko || { say "no pktgen"; exit 1; }
DUT_VDEV=$(vdev_of $DUT_PCI)
PEER_VDEV=$(vdev_of $PEER_PCI)
bind "$PEER_VDEV" "$PEER_DRV" || exit 1
setup_peer || exit 1
start_peer_iperf || exit 1
say "rounds 0, $FROM..$ROUNDS (0 is warm-up, 1 s per workload), $SECS s per workload, workloads: $WORKLOADS"
say "peer NIC $PEER_VDEV on $(basename "$(readlink /sys/bus/virtio/devices/$PEER_VDEV/driver)")"
say "modules in load order: $(awk '{ m[NR] = $1 } END { for (i = NR; i > 0; i--) printf "%s ", m[i] }' /proc/modules)"
say "CPUs $(nproc), memory $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) kB, kernel $(uname -r)"
for m in virtio_net_rust virtio_net; do
	echo "@@B drv=$m round=0 wl=module size=$(awk -v m=$m '$1 == m { print $2 }' /proc/modules)"
done
if [ $INSNS = 1 ]; then
	# Where each module's text is, to attribute module-space instructions.
	echo 0 > /proc/sys/kernel/kptr_restrict
	awk '{ print "@@MOD name=" $1 " addr=" $6 }' /proc/modules
	# And every function, for the profile by symbol (vnr.insns=tbs).
	[ $SYMS = 1 ] && awk '$2 ~ /^[tT]$/ { print "@@SYM", $1, $3, $4 }' /proc/kallsyms
fi

# Each workload measures both drivers back to back, so a pair is seconds apart
# and not a whole round: A B on one workload, B A on the next (one swap per
# workload), and the round after starts with the other driver, so for every
# workload each driver goes first in every other round.
# Uptime in centiseconds (the guest's date has no %N).
uptime_cs() { awk '{ sub(/\./, "", $1); print $1 + 0 }' /proc/uptime; }
swap_to() {
	local t0=$(uptime_cs)
	use $1 || { say "cannot bring up the DUT with $1"; exit 1; }
	SWAP_CS=$((SWAP_CS + $(uptime_cs) - t0)) SWAPS=$((SWAPS + 1))
	[ $ROUND = 0 ] && [ -z "$(eval echo \$FEAT_$1)" ] && {
		# Negotiated virtio features (bit string, bit 0 first): both drivers
		# must make the device do the same work.
		eval FEAT_$1=1
		say "features $1 $(cat /sys/bus/virtio/devices/$DUT_VDEV/features)"
	}
	return 0
}
# RX buffer memory of the bound driver at rest, after its last workload of the round.
mem_at_rest() {
	sleep 1
	out "mem rx_posted_bytes=$(rx_posted_bytes) queues=$(ls /sys/class/net/$DUT/queues | grep -c rx)"
}
ROUND=0 SWAP_CS=0 SWAPS=0 CUR=
NWL=$(echo $WORKLOADS | wc -w)
MSECS=$SECS
while [ $ROUND -le $ROUNDS ]; do
	# The warm-up only has to bring each path in once (caches, TCG's
	# translations, neighbours): 1 s per workload.
	SECS=$MSECS
	[ $ROUND = 0 ] && [ "$MSECS" -gt 1 ] 2>/dev/null && SECS=1
	a=virtio_net_rust b=virtio_net
	[ $((ROUND % 2)) = 1 ] && a=virtio_net b=virtio_net_rust
	say "round $ROUND, $a first on the 1st workload, then alternating"
	i=0
	for w in $WORKLOADS; do
		i=$((i + 1))
		for d in $a $b; do
			if [ "$CUR" != "$d" ]; then
				# The last workload's first driver is done for this round.
				[ $i = $NWL ] && [ "$d" = "$b" ] && mem_at_rest
				swap_to $d
			fi
			run_workload $w
		done
		t=$a a=$b b=$t
	done
	mem_at_rest
	ROUND=$((ROUND + 1))
	[ $ROUND = 1 ] && ROUND=$FROM
done
say "$(ls /sys/class/net/$DUT/queues | grep -c rx) queue pairs; $SWAPS driver swaps, $((SWAP_CS / 100)) s in all"
if dmesg | grep -qE "$SPLAT"; then
	say "kernel log has warnings:"; dmesg | grep -E "$SPLAT"; exit 1
fi
exit 0
