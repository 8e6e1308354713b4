#!/bin/bash
# parity.sh OURS.out INTREE.out: the parity table (test x driver) of two runs of
# the in-VM suite, one per driver on the device under test, as markdown on stdout.
# Exit status 1 if a test passes with the in-tree virtio_net but not with ours.
set -uo pipefail
result() { # file test -> pass/FAIL/skip/-
	local l
	l=$(grep -E "^(not )?ok [0-9]+ $2( |$)" "$1" | head -1)
	case "$l" in
	"") echo "-" ;;
	not*) echo "FAIL" ;;
	*"# SKIP"*) echo "skip" ;;
	*) echo "pass" ;;
	esac
}
tests=$(cat "$1" "$2" | sed -n 's/^\(not \)\{0,1\}ok [0-9]* \([a-z0-9_.]*\).*/\2/p' | awk '!seen[$0]++')
echo "| test | virtio_net_rust | virtio_net (in-tree) | |"
echo "|---|---|---|---|"
worse=0
for t in $tests; do
	a=$(result "$1" "$t") b=$(result "$2" "$t") note=
	if [ "$b" = pass ] && [ "$a" != pass ]; then
		note="**regression**"; worse=1
	elif [ "$a" = pass ] && [ "$b" != pass ]; then
		note="in-tree: $b"
	fi
	echo "| $t | $a | $b | $note |"
done
exit $worse
