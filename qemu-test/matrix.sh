#!/bin/bash
# Device feature matrix: boots the guest once per set of virtio-net-pci properties
# of the device under test and runs the checks that apply to it (ping, TCP
# integrity both ways with a 32 MiB blob, offload use). Prints one KTAP line per
# variant and writes qemu-test/out/matrix.md. Options go to vm.py, e.g.
#   qemu-test/matrix.sh --dut-driver virtio_net
# VNR_MATRIX=name1,name2 runs only those variants; VNR_MATRIX_OUT names the report
# and logs (default "matrix": qemu-test/out/matrix.md, matrix-VARIANT.log);
# VNR_JOBS=N boots N guests at a time (default 2).
source "$(dirname "$0")/common.sh"
set +e

checks=ping4,ping6,tcp_dut_to_peer,tcp_peer_to_dut,offloads_used,mtu_change
guest_gso_off=guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off
host_gso_off=host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off
big_checks=default_pairs,tcp_dut_to_peer,tcp_peer_to_dut,channels_under_traffic,every_queue
ctrl_off=ctrl_vq=off,ctrl_rx=off,ctrl_vlan=off,ctrl_rx_extra=off,ctrl_mac_addr=off,ctrl_guest_offloads=off,guest_announce=off
# name | vm.py options | checks
# The rss variant runs only the RSS tests, on rate-limited UDP: bulk TCP through
# QEMU 7.2's software RSS can stall for good (docs/testing.md, the matrix).
variants=(
	"defaults||$checks"
	"mrg_rxbuf=off|--dut-props ,mrg_rxbuf=off|$checks,xdp_refused"
	"small_buffers|--dut-props ,mrg_rxbuf=off,$guest_gso_off|$checks,xdp_drop,xdp_pass,xdp_tx,xdp_redirect"
	# A device MTU above 1500 without mergeable buffers or guest GSO: big packets
	# sized for the MTU, as in-tree (jumbo frames both ways in mtu_change).
	"small_buffers_mtu_9000|--dut-props ,mrg_rxbuf=off,$guest_gso_off,host_mtu=9000|$checks"
	"no_csum|--dut-props ,csum=off,guest_csum=off,$host_gso_off,$guest_gso_off|$checks"
	"host_tso_off|--dut-props ,$host_gso_off|$checks"
	"mq_2|--queues 2|$checks,channels_under_traffic"
	"mq_4|--queues 4|$checks,channels_under_traffic,xdp_send_queues"
	# Big VMs: as many pairs as vCPUs, more than the 2 vCPUs here. The control queue
	# sits after all of them (beyond 16 pairs it used to be taken for a data queue).
	"mq_17|--queues 17 --guest-arg blob_mb=16|$big_checks,system_sleep"
	"mq_32|--queues 32 --guest-arg blob_mb=16|$big_checks"
	"mq_64|--queues 64 --guest-arg blob_mb=16|$big_checks"
	"packed|--dut-props ,packed=on|$checks"
	"event_idx=off|--dut-props ,event_idx=off|$checks"
	"indirect_desc=off|--dut-props ,indirect_desc=off|$checks"
	"ctrl_vq=off|--dut-props ,$ctrl_off|$checks,xdp_refused"
	"ctrl_rx_without_ctrl_vq|--dut-props ,ctrl_vq=off,ctrl_rx=on,ctrl_vlan=off,ctrl_rx_extra=off,ctrl_mac_addr=off,ctrl_guest_offloads=off,guest_announce=off|bind_refused"
	"host_mtu=9000|--dut-props ,host_mtu=9000|$checks"
	"hash_report|--dut-props ,hash=on|$checks,rx_hash"
	"rss|--queues 4 --dut-props ,rss=on,hash=on|system_sleep,rss,rss_flow_hash,rss_table_kept,rss_bulk"
	"rx_queue_size=1024|--dut-props ,rx_queue_size=1024|$checks"
	# The standby of a failover pair (q35, e1000e primary on a PCIe root port).
	"failover|--failover|failover"
)

name_out=${VNR_MATRIX_OUT:-matrix}
md="$out/$name_out.md"
{
	echo "| variant | device properties | result | checks passed |"
	echo "|---|---|---|---|"
} > "$md"
echo "TAP version 13"
n=0
for v in "${variants[@]}"; do
	name=${v%%|*}
	[ -z "${VNR_MATRIX:-}" ] || echo ",$VNR_MATRIX," | grep -q ",$name," || continue
	n=$((n + 1))
done
echo "1..$n"
# run_variant I NAME OPTS CHECKS: one boot; writes its KTAP line (with the failed
# checks' lines before it) to $log.result and its matrix.md row to $log.row.
run_variant() {
	local i=$1 name=$2 opts=$3 only=$4 log="$out/$name_out-$2.log" rc ok notok plan bad result props
	# shellcheck disable=SC2086
	"$root/qemu-test/vm.py" --kernel "$kernel_image" --initrd "$initrd" --mode tests \
		--quiet-kernel --log "$log.console" --timeout 900 --only "$only" \
		--guest-arg blob_mb=32 $opts "${vm_args[@]}" > "$log" 2>&1
	rc=$?
	ok=$(grep -cE '^ok [0-9]+ ' "$log")
	notok=$(grep -cE '^not ok [0-9]+ ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -1)
	bad=$(grep -E '^not ok [0-9]+ ' "$log" | awk '{print $4}' | paste -sd, -)
	if [ "$rc" = 0 ] && [ "$notok" = 0 ] && [ "$ok" = "${plan:-x}" ]; then
		echo "ok $i $name" > "$log.result"
		result=pass
	else
		{
			grep -E '^(not ok|# )' "$log" | sed 's/^/# /' | tail -60
			echo "not ok $i $name # rc=$rc${bad:+ failed: $bad}"
		} > "$log.result"
		result="FAIL (rc=$rc${bad:+; $bad})"
	fi
	props=$(echo "$opts" | sed 's/--dut-props ,//; s/--queues \([0-9]*\)/mq=on, \1 queue pairs/')
	echo "| $name | ${props:-(defaults)} | $result | $ok/${plan:-?} |" > "$log.row"
}

# VNR_JOBS guests at a time (default 2): a guest keeps about one of the two host
# CPUs busy, so two side by side take about half the time. Results in order.
vm_args=("$@")
jobs_max=${VNR_JOBS:-2}
i=0 names=()
for v in "${variants[@]}"; do
	IFS='|' read -r name opts only <<< "$v"
	[ -z "${VNR_MATRIX:-}" ] || echo ",$VNR_MATRIX," | grep -q ",$name," || continue
	i=$((i + 1))
	names+=("$name")
	rm -f "$out/$name_out-$name.log.result" "$out/$name_out-$name.log.row"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	run_variant "$i" "$name" "$opts" "$only" &
done
wait
failed=0
for name in "${names[@]}"; do
	log="$out/$name_out-$name.log"
	cat "$log.result" 2>/dev/null || echo "not ok ? $name # no result"
	grep -q '^ok ' "$log.result" 2>/dev/null || failed=$((failed + 1))
	cat "$log.row" >> "$md" 2>/dev/null
	rm -f "$log.result" "$log.row"
done
exit $((failed > 0))
