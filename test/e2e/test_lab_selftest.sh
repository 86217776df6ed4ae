#!/usr/bin/env bash
# lab_check ... eval '...' expands at check time, on purpose.
# shellcheck disable=SC2016,SC2034,SC2119
# test_lab_selftest.sh: proves the e2e lab itself, with real packets and no
# policy agent: same-node, cross-node (v4 and v6) and vm-to-pod traffic
# flows; closed ports fail; an iptables REJECT in a node's FORWARD chain
# stops bridged same-node traffic (v4 and v6) only while br_netfilter is on,
# which is what netpold relies on; watch probes, pod delete/re-create and
# stale-lab cleanup work; and nothing (namespace, process, state) is left
# behind. Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/lab.sh
. "$HERE/lib/lab.sh"

T0=$(date +%s.%N)
if [[ $(id -u) != 0 ]]; then
	echo "SKIP: needs root (network namespaces)"
	exit 77
fi

WORK=$(mktemp -d)
STALE_NS_PREFIX=
# Set before lab_init, which chains it after its own lab_cleanup.
trap 'rm -rf "$WORK"; if [[ -n $STALE_NS_PREFIX ]]; then _lab_destroy "$STALE_NS_PREFIX"; fi' EXIT
lab_init || exit 1
PREFIX=$LAB_PREFIX
STATE=$LAB_STATE

setup() {
	lab_node n1 1 &&
		lab_node n2 2 &&
		lab_underlay &&
		lab_vm vm 192.168.254.100 fd00:254::100 &&
		lab_pod a1 n1 10.244.1.10 fd00:244:1::10 80 53 3306 &&
		lab_pod b1 n1 10.244.1.11 80 53 &&
		lab_pod a2 n2 10.244.2.10 fd00:244:2::10 80 53 &&
		lab_pod b2 n2 10.244.2.11 fd00:244:2::11 80 53
}
if ! lab_check "build 2 nodes, underlay, vm, 4 pods" setup; then
	lab_summary
	exit 1
fi
T_SETUP=$(date +%s.%N)

# --- structure --------------------------------------------------------------
sysctl_is() { [[ $(lab_exec "$1" sysctl -n "$2") == "$3" ]]; }
for n in n1 n2; do
	lab_check "$n bridge-nf-call-iptables=1" sysctl_is $n net.bridge.bridge-nf-call-iptables 1
	lab_check "$n bridge-nf-call-ip6tables=1" sysctl_is $n net.bridge.bridge-nf-call-ip6tables 1
	lab_check "$n ip_forward=1" sysctl_is $n net.ipv4.ip_forward 1
	lab_check "$n ipv6 forwarding=1" sysctl_is $n net.ipv6.conf.all.forwarding 1
done
has_route() { # NODE PREFIX VIA
	local fam=-4
	if [[ $2 == *:* ]]; then
		fam=-6
	fi
	lab_exec "$1" ip "$fam" route show exact "$2" | grep -q "via $3 "
}
lab_check "n1 host-gw route 10.244.2.0/24 via 192.168.254.2" has_route n1 10.244.2.0/24 192.168.254.2
lab_check "n2 host-gw route fd00:244:1::/64 via fd00:254::1" has_route n2 fd00:244:1::/64 fd00:254::1
lab_check "vm route fd00:244:2::/64 via fd00:254::2" has_route vm fd00:244:2::/64 fd00:254::2
lab_check "lab_node is idempotent" lab_node n1 1
lab_check "lab_node refuses a changed index" eval '! lab_node n1 3 2>/dev/null'
lab_check "lab_vm is idempotent" lab_vm vm 192.168.254.100 fd00:254::100/64
lab_check "lab_vm refuses other addresses" eval '! lab_vm vm 192.168.254.101 2>/dev/null'
lab_check "lab_pod is idempotent" lab_pod b1 n1 10.244.1.11/24 80 53
lab_check "lab_pod refuses another configuration" eval '! lab_pod b1 n1 10.244.1.11 80 2>/dev/null'
lab_check "lab_ns resolves pods" eval '[[ $(lab_ns a1) == ${PREFIX}p-a1 ]]'
lab_check "lab_probe one-shot ok" eval 'lab_probe a1 10.244.2.10 80 tcp >/dev/null'
lab_check "lab_probe one-shot closed port fails with 1" eval 'lab_probe a1 10.244.2.10 81 tcp >/dev/null; (($? == 1))'

# --- full matrix, no rules: everything reachable ------------------------------
# Every source (4 pods + vm) to every pod address, TCP 80 and UDP 53; b1 has
# no v6 address so it only probes v4 targets.
ADDRS="10.244.1.10 fd00:244:1::10 10.244.1.11 10.244.2.10 fd00:244:2::10 10.244.2.11 fd00:244:2::11"
{
	for src in a1 b1 a2 b2 vm; do
		for dst in $ADDRS; do
			if [[ $src == b1 && $dst == *:* ]]; then
				continue
			fi
			echo "$src $dst 80 tcp ok"
			echo "$src $dst 53 udp ok"
		done
	done
	echo "a1 10.244.1.10 3306 tcp ok"
	echo "vm fd00:244:1::10 3306 tcp ok"
	# closed ports: no listener on 9 / 3306 there
	echo "a1 10.244.1.11 9 tcp fail"
	echo "a1 10.244.1.11 9 udp fail"
	echo "a1 10.244.2.10 9 udp fail"
	echo "vm fd00:244:2::11 9 tcp fail"
	echo "b2 10.244.1.11 3306 tcp fail"
	echo "vm fd00:244:1::10 9 udp fail"
} >"$WORK/open.exp"
t=$(date +%s.%N)
lab_check_matrix "$WORK/open.exp"
T_MATRIX=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "     ($(grep -c . "$WORK/open.exp") probes in ${T_MATRIX}s)"
lab_check "matrix of $(grep -c . "$WORK/open.exp") probes runs in parallel (< 3 s)" \
	awk -v t="$T_MATRIX" 'BEGIN { exit !(t < 3) }'

# --- br_netfilter: a REJECT in node2's FORWARD blocks one bridged pair --------
# Only new connections, as the agent does (established first): replies of
# b2 -> a2 also have source a2 and destination b2.
RULE4=(FORWARD -s 10.244.2.10 -d 10.244.2.11 -m conntrack --ctstate NEW -j REJECT)
RULE6=(FORWARD -s fd00:244:2::10 -d fd00:244:2::11 -m conntrack --ctstate NEW -j REJECT)
lab_exec n2 iptables-legacy -I "${RULE4[@]}"
lab_exec n2 ip6tables-legacy -I "${RULE6[@]}"
cat >"$WORK/reject.exp" <<'EOF'
# the blocked pair (a2 -> b2, same node, bridged), v4 and v6, TCP and UDP
a2 10.244.2.11 80 tcp fail
a2 10.244.2.11 53 udp fail
a2 fd00:244:2::11 80 tcp fail
a2 fd00:244:2::11 53 udp fail
# everything else still works
b2 10.244.2.10 80 tcp ok
b2 fd00:244:2::10 53 udp ok
a1 10.244.2.11 80 tcp ok
a1 fd00:244:2::11 53 udp ok
vm 10.244.2.11 80 tcp ok
vm fd00:244:2::11 80 tcp ok
a2 10.244.1.10 80 tcp ok
a2 fd00:244:1::10 53 udp ok
b1 10.244.1.10 80 tcp ok
a1 10.244.1.11 53 udp ok
EOF
lab_check_matrix "$WORK/reject.exp"
rejected_fast() {
	local out
	out=$(grep -v '^#' "$WORK/reject.exp" | head -4 | cut -d' ' -f1-4 | lab_probe_matrix -v -)
	[[ $(grep -c ' fail refused$' <<<"$out") == 4 ]]
}
lab_check "REJECT fails fast (ICMP refused, not timeout)" rejected_fast
counted() { # NODE IPT: the REJECT rule matched packets
	[[ $(lab_exec "$1" "$2" -L FORWARD -v -x -n | awk '/REJECT/ { print $1; exit }') -gt 0 ]]
}
lab_check "n2 iptables FORWARD REJECT counted packets" counted n2 iptables-legacy
lab_check "n2 ip6tables FORWARD REJECT counted packets" counted n2 ip6tables-legacy

# Counter-proof: without bridge-nf-call the same rules do not see bridged traffic.
lab_exec n2 sysctl -q -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0
lab_check "bridge-nf-call off: the REJECTed pair flows (v4)" eval 'lab_probe a2 10.244.2.11 80 tcp >/dev/null'
lab_check "bridge-nf-call off: the REJECTed pair flows (v6)" eval 'lab_probe a2 fd00:244:2::11 53 udp >/dev/null'
lab_exec n2 sysctl -q -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
lab_check "bridge-nf-call on again: blocked again" eval '! lab_probe a2 10.244.2.11 80 tcp >/dev/null'

# --- watch mode -----------------------------------------------------------------
wblk=$(lab_probe_watch a2 tcp 10.244.2.11 80 "$WORK/watch.blocked" 0.05)
wok=$(lab_probe_watch a1 udp fd00:244:1::10 53 "$WORK/watch.open" 0.05)
samples() { awk 'END { print NR }' "$1" 2>/dev/null || echo 0; }
# Until both have 5 samples (10 s at most): a loaded machine starts python slowly.
for ((i = 0; i < 200; i++)); do
	(($(samples "$WORK/watch.blocked") >= 5 && $(samples "$WORK/watch.open") >= 5)) && break
	sleep 0.05
done
kill "$wblk" "$wok"
sleep 0.1
watch_all() { # FILE RESULT: at least 5 samples, all RESULT
	local n
	n=$(grep -c . "$1")
	((n >= 5)) && ! grep -qv " $2\$" "$1"
}
lab_check "watch: blocked pair never got through ($(grep -c . "$WORK/watch.blocked") samples)" \
	watch_all "$WORK/watch.blocked" fail
lab_check "watch: open pair always ok ($(grep -c . "$WORK/watch.open") samples)" \
	watch_all "$WORK/watch.open" ok

lab_exec n2 iptables-legacy -D "${RULE4[@]}"
lab_exec n2 ip6tables-legacy -D "${RULE6[@]}"
lab_check "rules removed: pair flows again" eval 'lab_probe a2 fd00:244:2::11 80 tcp >/dev/null'

# --- pod delete and address reuse -------------------------------------------------
old_pid=$(<"$STATE/run/b1.pid")
lab_check "lab_pod_del b1" lab_pod_del b1
lab_check "deleted pod's server is gone" eval '! _lab_proc_alive $old_pid'
lab_check "deleted pod unreachable" eval '! LAB_PROBE_TIMEOUT=0.3 lab_probe a1 10.244.1.11 80 tcp >/dev/null'
lab_check "re-create b1 with the same IP" lab_pod b1 n1 10.244.1.11 8080
# Neighbour caches of n1 and a1 still hold the old MAC: the announcement
# made by lab_pod must fix them at once.
lab_check "re-created pod reachable at once (vm, routed)" eval 'lab_probe vm 10.244.1.11 8080 udp >/dev/null'
lab_check "re-created pod reachable at once (a1, bridged)" eval 'lab_probe a1 10.244.1.11 8080 tcp >/dev/null'

# --- stale labs: an owner killed by SIGKILL leaves namespaces behind ----------------
stale_run() {
	bash -c '. "$1"; lab_init >/dev/null || exit 1
		lab_node n1 1 && lab_pod s n1 10.244.1.5 7 || exit 1
		echo "$LAB_PREFIX $(<"$LAB_STATE/run/s.pid")"; kill -9 $BASHPID' _ "$HERE/lib/lab.sh"
}
read -r STALE_NS_PREFIX stale_pid < <(stale_run)
lab_check "killed owner left namespaces" eval '[[ -n $STALE_NS_PREFIX && -n $(_lab_nslist "$STALE_NS_PREFIX") ]]'
lab_check "lab_cleanup_stale succeeds" lab_cleanup_stale
lab_check "stale namespaces removed" eval '[[ -z $(_lab_nslist "$STALE_NS_PREFIX") ]]'
lab_check "stale pod server killed" eval '! _lab_proc_alive $stale_pid'
lab_check "live lab untouched by stale cleanup" eval 'lab_probe a1 10.244.2.10 80 tcp >/dev/null'

# --- teardown leaves nothing -------------------------------------------------------
mapfile -t LAB_PIDS < <(for ns in $(_lab_nslist "$PREFIX"); do ip netns pids "$ns"; done)
lab_check "lab had processes to clean (${#LAB_PIDS[@]})" eval '((${#LAB_PIDS[@]} >= 4))'
lab_check "lab_cleanup" lab_cleanup
lab_check "no lab namespace left (ip netns list)" eval '! ip netns list | grep -q "^$PREFIX"'
no_pids() {
	local p
	for p in "${LAB_PIDS[@]}"; do
		if _lab_proc_alive "$p"; then
			echo "  still alive: $p" >&2
			return 1
		fi
	done
	! pgrep -f "$STATE" >/dev/null
}
lab_check "no lab process left" no_pids
lab_check "state dir removed" eval '[[ ! -e $STATE ]]'

T1=$(date +%s.%N)
awk -v a="$T0" -v b="$T_SETUP" -v c="$T1" 'BEGIN { printf "time: setup %.2fs, total %.2fs\n", b - a, c - a }'
lab_summary
