#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_conntrack.sh: a deny cuts established flows, and only those. demo/client
# (node1) holds one TCP connection and one UDP 5-tuple to demo/server (node2), demo/other
# (node1) one UDP 5-tuple to the server; each sends a token every 20 ms and the server's
# flowecho.py echoes it. With no policy every flow is echoed; then a policy isolating
# client in both directions (admitting nothing) is written. Checked on real packets:
#   - neither of client's flows gets an echo later than 1 s after node1's sync that brought
#     the policy into the kernel (netpold_last_sync_timestamp_seconds),
#   - other's flow, on the same nodes, gets every echo, before and after the change,
#   - node1's netpold_conntrack_deleted_total counts exactly client's two entries (other's
#     entry stays: no blind flush), and node2 (whose pods' verdicts did not change) deletes
#     nothing.
# Without the conntrack cut both of client's flows keep their echoes (established traffic
# is returned before any policy chain).
# Then a deny on one side only, against a server that also pushes a line every 20 ms on its
# own (so the allowed side may send the first segment after the cut), reverted 1.5 s after
# it reached the kernel: client's egress (node1), then server's ingress (node2, admitting
# other). Each time client's TCP connection is reset within 1 s of the deny and gets nothing
# later, even after the revert, while other's UDP flow keeps every echo. Without the reset
# of mid-stream pickups the server's pushed segment, NEW in the allowed direction, would
# start a new entry and client's segments would pass as its replies; without TCP resets a
# dropped segment would be retransmitted until the revert and the connection resume.
# Then a pod joining the peer set of a policy (set additions only) makes the server's node
# run no conntrack cut, and its leaving (an entry deleted) one. Last, a flow set up while a
# cut is out (node1's dumps held by a test hook) and denied then is cut by the next one,
# which starts no sooner than twice the first one's duration after it.
# Needs root. Prints "N passed, M failed".
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

FLOWPORT=7000
PUSHPORT=7001
SERVER=10.244.2.10
scn_setup_lab
MAN=$SCN_DIR/manifests
mkdir -p "$MAN"

pod_yaml() { # NAME APP NODE IP
	cat <<-EOF
	---
	apiVersion: v1
	kind: Pod
	metadata:
	  name: $1
	  namespace: demo
	  labels:
	    app: $2
	spec:
	  nodeName: $3
	  containers:
	  - name: main
	    image: busybox
	status:
	  phase: Running
	  podIP: $4
	  podIPs:
	  - ip: $4
	EOF
}
{
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n'
	pod_yaml client client node1 10.244.1.10
	pod_yaml other other node1 10.244.1.11
	pod_yaml server server node2 "$SERVER"
} >"$MAN/pods.yaml"
TABLE=$SCN_DIR/pods
scn_pods_table "$MAN" >"$TABLE"
if ! lab_check "lab pods client, other (node1) and server (node2) up" scn_pods_up "$TABLE"; then
	lab_summary
	exit 1
fi
lab_spawn demo.server "$SCN_DIR/flowecho-serve.log" python3 -S "$SCN_LIBDIR/flowecho.py" \
	serve "$FLOWPORT" >/dev/null
lab_spawn demo.server "$SCN_DIR/flowecho-push.log" python3 -S "$SCN_LIBDIR/flowecho.py" \
	serve "$PUSHPORT" --push 0.02 >/dev/null
serving() { lab_exec demo.server ss -Hltn "sport = :$1" | grep -q LISTEN; }
lab_check "flowecho serves on $SERVER:$FLOWPORT and, pushing, on :$PUSHPORT" \
	eval 'scn_poll 5 serving $FLOWPORT && scn_poll 5 serving $PUSHPORT'
scn_setup_agents "netpold ready on node1 and node2"

flow() { # POD PROTO OUT [PORT [DURATION]]
	lab_spawn "$1" "$SCN_DIR/flow-$1-$2.err" python3 -S "$SCN_LIBDIR/flowecho.py" flow "$2" \
		"$SERVER" "${4:-$FLOWPORT}" --out "$3" --interval 0.02 --duration "${5:-7}"
}
C_TCP=$SCN_DIR/client-tcp C_UDP=$SCN_DIR/client-udp O_UDP=$SCN_DIR/other-udp
pids=("$(flow demo.client tcp "$C_TCP")" "$(flow demo.client udp "$C_UDP")"
	"$(flow demo.other udp "$O_UDP")")
sleep 2
before1=$(scn_metric node1 netpold_conntrack_deleted_total)
before2=$(scn_metric node2 netpold_conntrack_deleted_total)
# policy_on NAME APP [TYPE...]: a NetworkPolicy NAME in demo selecting app=APP, with
# policyTypes TYPE... when given; with no rules after it, it denies those directions.
policy_on() {
	local t
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n'
	printf '  name: %s\n  namespace: demo\nspec:\n  podSelector:\n' "$1"
	printf '    matchLabels:\n      app: %s\n' "$2"
	shift 2
	(($#)) && printf '  policyTypes:\n'
	for t in "$@"; do printf '  - %s\n' "$t"; done
}
T_WRITE=$(date +%s.%N)
policy_on quarantine-client client Ingress Egress >"$MAN/policy.yaml.tmp"
mv "$MAN/policy.yaml.tmp" "$MAN/policy.yaml"
synced_after_write() { # NODE
	local t
	t=$(scn_metric "$1" netpold_last_sync_timestamp_seconds) || return 1
	awk -v t="$t" -v w="$T_WRITE" 'BEGIN { exit !(t > w) }'
}
lab_check "node1 synced the policy" scn_poll 10 synced_after_write node1
T_KERNEL=$(scn_metric node1 netpold_last_sync_timestamp_seconds)
echo "     policy written at $T_WRITE, in node1's kernel at $T_KERNEL"
wait_flows() {
	local p
	for p in "$@"; do
		while _lab_proc_alive "$p"; do sleep 0.1; done
	done
}
wait_flows "${pids[@]}"

# FILE: the time of the last echo, and of the first one.
last_echo() { awk '$2 == "echo" { t = $1 } END { printf "%.3f\n", t }' "$1"; }
first_echo() { awk '$2 == "echo" { print $1; exit }' "$1"; }
cut_within() { # FILE: echoed before the change, none later than 1 s after it reached the kernel
	local f l
	f=$(first_echo "$1") l=$(last_echo "$1")
	echo "     $(basename "$1"): first echo $f, last echo $l ($(awk -v l="$l" -v k="$T_KERNEL" 'BEGIN { printf "%+.3f", l - k }') s after the kernel change); $(grep ' done ' "$1")"
	[[ -n $f ]] && awk -v f="$f" -v w="$T_WRITE" -v l="$l" -v k="$T_KERNEL" \
		'BEGIN { exit !(f < w && l <= k + 1.0) }'
}
every_echo() { # FILE: every token echoed, the last after the change
	local d sent echoed
	d=$(grep ' done ' "$1") || return 1
	echo "     $(basename "$1"): $d, last echo $(last_echo "$1")"
	read -r _ _ sent echoed <<<"$d"
	((sent > 200 && echoed == sent)) &&
		awk -v l="$(last_echo "$1")" -v k="$T_KERNEL" 'BEGIN { exit !(l > k + 2) }'
}
lab_check "client's TCP connection: no echo later than 1 s after the deny" cut_within "$C_TCP"
lab_check "client's UDP 5-tuple: no echo later than 1 s after the deny" cut_within "$C_UDP"
lab_check "other's UDP 5-tuple (still allowed): every token echoed" every_echo "$O_UDP"
after1=$(scn_metric node1 netpold_conntrack_deleted_total)
after2=$(scn_metric node2 netpold_conntrack_deleted_total)
echo "     conntrack entries deleted: node1 $before1 -> $after1, node2 $before2 -> $after2"
lab_check "node1 deleted exactly client's two entries" \
	awk -v a="$before1" -v b="$after1" 'BEGIN { exit !(b - a == 2) }'
lab_check "node2 deleted none" awk -v a="$before2" -v b="$after2" 'BEGIN { exit !(b == a) }'
T_WRITE=$(date +%s.%N)
rm -f "$MAN/policy.yaml"
lab_check "node1 synced the policy's removal" scn_poll 10 synced_after_write node1

reset_within() { # FILE: the connection was reset, no later than 1 s after the deny
	local t
	t=$(awk '$2 == "error" && $3 ~ /ECONNRESET|EPIPE/ { print $1; exit }' "$1")
	echo "     $(basename "$1"): reset seen at ${t:-never} ($(grep -m1 ' error ' "$1"))"
	[[ -n $t ]] && awk -v t="$t" -v k="$T_KERNEL" 'BEGIN { exit !(t <= k + 1.0) }'
}
# NAME NODE: client holds a TCP connection to the pushing server and other a UDP 5-tuple;
# the policy on stdin (denying client's connection at NODE, on one side only) is written,
# and removed 1.5 s after it reached NODE's kernel.
one_sided() {
	local name=$1 node=$2 ptcp=$SCN_DIR/$1-client-tcp oudp=$SCN_DIR/$1-other-udp
	local pids
	pids=("$(flow demo.client tcp "$ptcp" "$PUSHPORT" 8)"
		"$(flow demo.other udp "$oudp" "$FLOWPORT" 8)")
	sleep 2
	T_WRITE=$(date +%s.%N)
	cat >"$MAN/$name.yaml.tmp" && mv "$MAN/$name.yaml.tmp" "$MAN/$name.yaml"
	lab_check "$name: $node synced the policy" scn_poll 10 synced_after_write "$node"
	T_KERNEL=$(scn_metric "$node" netpold_last_sync_timestamp_seconds)
	sleep 1.5
	T_WRITE=$(date +%s.%N)
	rm -f "$MAN/$name.yaml"
	lab_check "$name: $node synced the revert" scn_poll 10 synced_after_write "$node"
	echo "     $name: deny in $node's kernel at $T_KERNEL, reverted at" \
		"$(scn_metric "$node" netpold_last_sync_timestamp_seconds)"
	wait_flows "${pids[@]}"
	lab_check "$name: client's TCP connection (server pushing) is reset within 1 s" \
		reset_within "$ptcp"
	lab_check "$name: client's TCP connection: nothing 1 s after the deny, revert included" \
		cut_within "$ptcp"
	lab_check "$name: other's UDP 5-tuple (still allowed): every token echoed" \
		every_echo "$oudp"
}
# (not a pipe: one_sided's checks must count in this shell)
one_sided egress-only node1 < <(policy_on client-egress client Egress)
one_sided ingress-only node2 < <(
	policy_on server-ingress server
	cat <<-EOF
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: other
EOF
)
# A change that only adds set members admits more and denies nothing: no cut runs for it.
# A pod joining the peer set of the server's policy is one; its leaving (an entry deleted)
# is not.
cuts_then() { # NODE N: node's netpold_conntrack_cuts_total is N half a second after its sync
	local n
	scn_poll 10 synced_after_write "$1" || return 1
	sleep 0.5
	n=$(scn_metric "$1" netpold_conntrack_cuts_total) || return 1
	echo "     $1: netpold_conntrack_cuts_total $n (expected $2)"
	[[ $n == "$2" ]]
}
T_WRITE=$(date +%s.%N)
{
	policy_on server-from-other server
	printf '  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          app: other\n'
} >"$MAN/admit.yaml.tmp"
mv "$MAN/admit.yaml.tmp" "$MAN/admit.yaml"
lab_check "node2 synced a policy admitting app=other" scn_poll 10 synced_after_write node2
sleep 0.5
cuts=$(scn_metric node2 netpold_conntrack_cuts_total)
T_WRITE=$(date +%s.%N)
pod_yaml extra other node1 10.244.1.12 >"$MAN/extra.yaml.tmp"
mv "$MAN/extra.yaml.tmp" "$MAN/extra.yaml"
lab_check "a pod joining the admitted set (set additions only): node2 runs no cut" \
	cuts_then node2 "$cuts"
T_WRITE=$(date +%s.%N)
rm -f "$MAN/extra.yaml"
lab_check "the pod leaving it (an entry deleted): node2 runs one cut" \
	cuts_then node2 "$((cuts + 1))"

# A change while a cut is out: node1's netpold again, its dumps held 2 s after the kernel's
# walk (a test hook). A policy on client makes node1 cut; during that cut other opens a UDP
# 5-tuple to the server, and then a policy denies other's egress. The held dump walked the
# table before that flow existed: only the one more dump that the second sync asks for
# sees it and cuts it, started twice the first one's duration after it. Both syncs are
# served by those two cuts.
HOLD=2
cuts_are() { [[ $(scn_metric node1 netpold_conntrack_cuts_total) == "$1" ]]; }
scn_agent_stop node1
NPD_CT_HOLD_MS=$((HOLD * 1000)) scn_agent_start node1 "$MAN"
lab_check "node1's netpold restarted with held dumps" scn_agent_ready node1
lab_check "node1's first sync: its cut comes back after the hold" scn_poll 10 cuts_are 1
sleep $((2 * HOLD)) # the next cut may start at once
T_WRITE=$(date +%s.%N)
policy_on hold-client client Egress >"$MAN/hold1.yaml.tmp" && mv "$MAN/hold1.yaml.tmp" "$MAN/hold1.yaml"
lab_check "held cut: node1 synced the first policy" scn_poll 10 synced_after_write node1
H_UDP=$SCN_DIR/held-other-udp
hpid=$(flow demo.other udp "$H_UDP" "$FLOWPORT" 12)
sleep 0.5
T_WRITE=$(date +%s.%N)
policy_on hold-other other Egress >"$MAN/hold2.yaml.tmp" && mv "$MAN/hold2.yaml.tmp" "$MAN/hold2.yaml"
lab_check "held cut: node1 synced the policy denying other's egress" \
	scn_poll 10 synced_after_write node1
T_KERNEL=$(scn_metric node1 netpold_last_sync_timestamp_seconds)
lab_check "held cut: the deny reached the kernel while the first policy's cut was out" cuts_are 1
wait_flows "$hpid"
held_cut() { # FILE: echoed before the deny, none later than 1 s after three holds
	local f l
	f=$(first_echo "$1") l=$(last_echo "$1")
	echo "     $(basename "$1"): first echo $f, last echo $l ($(awk -v l="$l" -v k="$T_KERNEL" 'BEGIN { printf "%+.3f", l - k }') s after the deny reached the kernel); $(grep ' done ' "$1")"
	[[ -n $f ]] && awk -v f="$f" -v w="$T_WRITE" -v l="$l" -v k="$T_KERNEL" -v h="$HOLD" \
		'BEGIN { exit !(f < w && l <= k + 3 * h + 1.0) }'
}
lab_check "held cut: the flow set up during it is cut by the next one" held_cut "$H_UDP"
# That cut began twice the first one's duration (two holds) after it: the flow lives on
# until two holds after the deny at least (the first cut began before it).
lab_check "held cut: the next cut waited twice the first one's duration" \
	awk -v l="$(last_echo "$H_UDP")" -v k="$T_KERNEL" -v h="$HOLD" 'BEGIN { exit !(l > k + 2 * h - 0.5) }'
lab_check "held cut: two syncs, two cuts after the first sync's" cuts_are 3
rm -f "$MAN/hold1.yaml" "$MAN/hold2.yaml"
lab_check "netpold down and cleaned up on both nodes" scn_agents_down
if ((LAB_FAILED)); then
	scn_dump node1
fi
lab_summary
