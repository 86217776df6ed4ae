#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_ipv6.sh: the dual-stack example (manifests/examples/dual-stack.yaml)
# on the 2-node lab with real v4 and v6 packets. web (node1) accepts its named
# port http from role=client pods over both families, and 8080 only from the
# v6 ipBlock fd00:244:2::/64 except other's address. Checks: the write-up's
# verdicts (independent of the simulator), the full v4 and v6 matrices equal
# `netpolctl simulate --family 4|6`, ip6tables carries the v6 rules and the v6
# ipBlock set (hash:net inet6 with a nomatch entry), denied v6 packets are
# REJECTed fast (not dropped into a timeout), and the v6 counters move.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_setup_common dual-stack.yaml "lab pods of dual-stack.yaml up (v4+v6)"
WEB4=$(lab_pod_ip ds.web 4) WEB6=$(lab_pod_ip ds.web 6)
lab_check "web is dual-stack ($WEB4, $WEB6)" eval '[[ -n $WEB4 && -n $WEB6 ]]'

lab_check "simulate: v4 matrix" scn_expect "$MAN" "$TABLE" 4 "$SCN_DIR/v4.exp"
lab_check "simulate: v6 matrix" scn_expect "$MAN" "$TABLE" 6 "$SCN_DIR/v6.exp"

# Before netpold: everything flows, both families.
{
	for src in ds.client ds.other vm; do
		for ip in "$WEB4" "$WEB6"; do
			echo "$src $ip 80 tcp ok"
			echo "$src $ip 8080 tcp ok"
		done
	done
} >"$SCN_DIR/open.exp"
lab_check_matrix "$SCN_DIR/open.exp"

t=$(scn_now)
lab_check "netpold ready on node1 and node2" scn_agents_up "$MAN"
echo "     (ready in $(scn_since "$t")s)"

to_web() { # FROM PORT V4 V6: FROM to web's v4 and v6 address on PORT/tcp, ok|fail each
	echo "$1 $WEB4 $2 tcp $3"
	echo "$1 $WEB6 $2 tcp $4"
}
{
	# client -> web http (named port 80), both families: ok; other: denied
	to_web ds.client 80 ok ok
	to_web ds.other 80 fail fail
	# 8080 is open over IPv6 only, from fd00:244:2::/64 except other
	to_web ds.client 8080 fail ok
	to_web ds.other 8080 fail fail
	# the vm (fd00:254::100) is in no allowed peer
	to_web vm 80 fail fail
	echo "vm $WEB6 8080 tcp fail"
	# web is not isolated for egress and the clients not at all
	echo "ds.web $(lab_pod_ip ds.client 6) 8080 tcp ok"
	echo "ds.web $(lab_pod_ip ds.other 4) 80 udp ok"
} >"$SCN_DIR/writeup.exp"
bad=0
lab_check_matrix "$SCN_DIR/writeup.exp" || bad=1
lab_check_matrix "$SCN_DIR/v6.exp" || bad=1
lab_check_matrix "$SCN_DIR/v4.exp" || bad=1

# Kernel state on node1 (web's node).
lab_check "node1: ip6tables FORWARD jumps to NPD-FORWARD" \
	eval 'lab_exec node1 ip6tables-legacy -S FORWARD | grep -q -- "-j NPD-FORWARD"'
lab_check "node1: ip6tables has per-pod chains (NPD-I-*)" \
	eval 'lab_exec node1 ip6tables-legacy-save | grep -q "^:NPD-I-"'
v6set() { # the hash:net inet6 set holding the ipBlock with its except as nomatch
	local s
	for s in $(lab_exec node1 ipset list -n | grep '^npd-'); do
		if lab_exec node1 ipset list "$s" | grep -q 'family inet6' &&
			lab_exec node1 ipset list "$s" | grep -q 'fd00:244:2::52.*nomatch' &&
			lab_exec node1 ipset list "$s" | grep -q 'fd00:244:2::/64'; then
			return 0
		fi
	done
	return 1
}
lab_check "node1: v6 ipBlock set (inet6, fd00:244:2::/64, ::52 nomatch)" v6set
refused6() {
	local out
	out=$(printf '%s\n' "ds.other $WEB6 80 tcp" "ds.other $WEB6 8080 tcp" | lab_probe_matrix -v -)
	echo "$out" | sed 's/^/     /'
	! grep -q timeout <<<"$out" && [[ $(grep -c ' fail' <<<"$out") == 2 ]]
}
lab_check "denied v6 traffic is REJECTed fast (no timeout)" refused6
v6counted() {
	lab_exec node1 ip6tables-legacy -L NPD-FORWARD -v -x -n |
		awk 'NR > 2 && $1 > 0 { n++ } END { exit !(n > 0) }'
}
lab_check "node1: ip6tables NPD-FORWARD counters moved" v6counted
if ((bad)); then
	scn_dump node1
	scn_dump node2
fi

lab_check "netpold stops and cleans up" scn_agents_down
lab_check "nothing of netpold left (v4, v6, sets)" scn_no_npd_left node1 node2
echo "time: total $(scn_since "$T0")s"
lab_summary
