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
# is returned before any policy chain). Needs root. Prints "N passed, M failed".
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

FLOWPORT=7000
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
serving() { lab_exec demo.server ss -Hltn "sport = :$FLOWPORT" | grep -q LISTEN; }
lab_check "flowecho serves on $SERVER:$FLOWPORT" scn_poll 5 serving
scn_setup_agents "netpold ready on node1 and node2"

flow() { # POD PROTO OUT
	lab_spawn "$1" "$SCN_DIR/flow-$1-$2.err" python3 -S "$SCN_LIBDIR/flowecho.py" flow "$2" \
		"$SERVER" "$FLOWPORT" --out "$3" --interval 0.02 --duration 7
}
C_TCP=$SCN_DIR/client-tcp C_UDP=$SCN_DIR/client-udp O_UDP=$SCN_DIR/other-udp
pids=("$(flow demo.client tcp "$C_TCP")" "$(flow demo.client udp "$C_UDP")"
	"$(flow demo.other udp "$O_UDP")")
sleep 2
before1=$(scn_metric node1 netpold_conntrack_deleted_total)
before2=$(scn_metric node2 netpold_conntrack_deleted_total)
T_WRITE=$(date +%s.%N)
cat >"$MAN/policy.yaml.tmp" <<-EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: quarantine-client
  namespace: demo
spec:
  podSelector:
    matchLabels:
      app: client
  policyTypes:
  - Ingress
  - Egress
EOF
mv "$MAN/policy.yaml.tmp" "$MAN/policy.yaml"
synced_after_write() {
	local t
	t=$(scn_metric node1 netpold_last_sync_timestamp_seconds) || return 1
	awk -v t="$t" -v w="$T_WRITE" 'BEGIN { exit !(t > w) }'
}
lab_check "node1 synced the policy" scn_poll 10 synced_after_write
T_KERNEL=$(scn_metric node1 netpold_last_sync_timestamp_seconds)
echo "     policy written at $T_WRITE, in node1's kernel at $T_KERNEL"
for p in "${pids[@]}"; do
	while _lab_proc_alive "$p"; do sleep 0.1; done
done

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
lab_check "netpold down and cleaned up on both nodes" scn_agents_down
if ((LAB_FAILED)); then
	scn_dump node1
fi
lab_summary
