#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2034 # eval strings read these variables
# test_obs_droplog.sh: the drop log on real packets. The AKS example on the
# 2-node lab with netpold on both nodes: 20 denied TCP probes of one flow
# produce drop log lines (the first within 1 s) that name both pods, the
# port and the isolating policy, summing to 20 packets; an allowed pair
# produces no line; the same for an egress denial (at the source's node) and
# for the outside vm as source (external(IP)). Then the dual-stack example:
# a denied IPv6 flow. /debug/drops on the debug address lists the flows and
# `netpolctl drops` prints them; /debug/* is 404 on the metrics address; with
# --drop-log=off nothing is logged; an agent that cannot bind the NFLOG group
# (another listener holds it) says so once, counts it and still enforces.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

DEBUG_PORT=9466
scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
DB=10.244.2.20 API=10.244.1.10 TOOL=10.244.1.11

lab_check "netpold ready on node1 and node2" scn_agents_up "$MAN"

# denied_lines NODE SRC DST PORT DIR POLICY: the drop log lines of one flow.
denied_lines() {
	grep 'msg="denied"' "$SCN_DIR/netpold-$1.log" |
		grep -F " direction=$5 src=$2 dst=$3 proto=TCP dport=$4 " |
		grep -E " isolated_by=([^ ]*,)?$6(,[^ ]*)? count=[0-9]+$"
}
# denied_sum ...: the packets those lines count.
denied_sum() {
	denied_lines "$@" | sed 's/.* count=//' | awk '{ s += $1 } END { print s + 0 }'
}
sum_is() { # WANT ARGS...: denied_sum ARGS equals WANT
	local want=$1
	shift
	[[ $(denied_sum "$@") == "$want" ]]
}
# probes FROM IP PORT N: N probes in parallel; prints how many failed.
probes() {
	local i
	for ((i = 0; i < $4; i++)); do echo "$1 $2 $3 tcp"; done |
		lab_probe_matrix - | grep -c ' fail'
}
# one_flow NODE FROM SRC_DESC DST_IP DST_DESC DIR POLICY: 1 probe, its line
# within 1 s, then 19 more, all 20 counted within 3 s.
one_flow() {
	local node=$1 from=$2 src=$3 ip=$4 dst=$5 dir=$6 pol=$7 t
	lab_check "$from -> $ip:80 denied (1 probe)" eval "[[ \$(probes $from $ip 80 1) == 1 ]]"
	t=$(scn_now)
	lab_check "$node: drop log line within 1 s: $dir $src -> $dst isolated_by $pol" \
		scn_poll 1 sum_is 1 "$node" "$src" "$dst" 80 "$dir" "$pol"
	echo "     (first line after $(scn_since "$t")s)"
	lab_check "$from -> $ip:80 denied (19 more probes)" eval "[[ \$(probes $from $ip 80 19) == 19 ]]"
	if ! lab_check "$node: the lines of $src -> $dst count 20 packets" \
		scn_poll 3 sum_is 20 "$node" "$src" "$dst" 80 "$dir" "$pol"; then
		echo "     counted $(denied_sum "$node" "$src" "$dst" 80 "$dir" "$pol"); lines:"
		grep 'msg="denied"' "$SCN_DIR/netpold-$node.log" | tail -n 5 | sed 's/^/       /'
	fi
}

# Ingress: toolpod (not isolated) -> dbpod, which admits only apipod.
one_flow node2 frontend.toolpod "frontend/toolpod($TOOL)" $DB "backend/dbpod($DB)" \
	ingress backend/db-policy
# Allowed: apipod -> dbpod, 20 probes, no line on either node.
lab_check "frontend/apipod -> dbpod:80 allowed (20 probes)" eval "[[ \$(probes frontend.apipod $DB 80 20) == 0 ]]"
sleep 1.2
lab_check "no drop log line for the allowed pair" \
	eval '! grep "msg=\"denied\"" "$SCN_DIR"/netpold-node*.log | grep -q "src=frontend/apipod"'
# Egress: apppod (node2) may reach only apipod and DNS: apppod -> toolpod is
# denied at apppod's egress, on node2, before it reaches node1.
one_flow node2 frontend.apppod "frontend/apppod(10.244.2.10)" $TOOL "frontend/toolpod($TOOL)" \
	egress frontend/app-policy
lab_check "node1 logs nothing for the egress denial (the packet never arrived)" \
	eval '[[ $(denied_sum node1 "frontend/apppod(10.244.2.10)" "frontend/toolpod($TOOL)" 80 egress frontend/app-policy) == 0 ]]'
# External: the vm -> dbpod (after 2 s, so dbpod's NFLOG rule has its burst of 20 again).
sleep 2
one_flow node2 vm "external($SCN_VM4)" $DB "backend/dbpod($DB)" ingress backend/db-policy

# /debug/drops and netpolctl drops on node2; /debug on the metrics address: 404.
dbg() { lab_exec "$1" curl -s -m 2 "http://127.0.0.1:$DEBUG_PORT$2"; }
lab_check "node2: /debug/drops lists the denied flows (JSON)" \
	eval 'dbg node2 /debug/drops | python3 -c "
import json, sys
d = json.load(sys.stdin)[\"drops\"]
keys = {(x[\"direction\"], x[\"src\"], x[\"dst\"], x[\"dport\"], tuple(x[\"isolated_by\"])) for x in d}
want = {(\"ingress\", \"frontend/toolpod($TOOL)\", \"backend/dbpod($DB)\", 80, (\"backend/db-policy\",)),
        (\"egress\", \"frontend/apppod(10.244.2.10)\", \"frontend/toolpod($TOOL)\", 80, (\"frontend/app-policy\",)),
        (\"ingress\", \"external($SCN_VM4)\", \"backend/dbpod($DB)\", 80, (\"backend/db-policy\",))}
sys.exit(0 if want <= keys and sum(x[\"count\"] for x in d) >= 60 else 1)"'
lab_exec node2 "$SCN_NETPOLCTL" drops --agent "http://127.0.0.1:$DEBUG_PORT" >"$SCN_DIR/drops.txt" 2>&1
lab_check "netpolctl drops prints the table" \
	eval 'head -n 1 "$SCN_DIR/drops.txt" | grep -q "ISOLATED_BY" &&
		grep -q "ingress.*external($SCN_VM4).*backend/dbpod($DB).*TCP.*80.*backend/db-policy" "$SCN_DIR/drops.txt"'
sed -n '1,4p' "$SCN_DIR/drops.txt" | sed 's/^/     /'
lab_check "/debug/drops is 404 on the metrics address" \
	eval '[[ $(lab_exec node2 curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$SCN_METRICS_PORT/debug/drops") == 404 ]]'
lab_check "/debug/explain is 404 on the metrics address" \
	eval '[[ $(lab_exec node2 curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$SCN_METRICS_PORT/debug/explain?from=$API&to=$DB&port=80") == 404 ]]'
lab_check "/metrics is 404 on the debug address" \
	eval '[[ $(lab_exec node2 curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$DEBUG_PORT/metrics") == 404 ]]'
lab_check "node2: netpold_drop_log_lines_total counts the lines" \
	eval '[[ $(scn_metric node2 netpold_drop_log_lines_total) == $(grep -c "msg=\"denied\"" "$SCN_DIR/netpold-node2.log") ]]'
lab_check "node2: netpold_drop_log_aggregated_total >= 57" \
	eval '(( $(scn_metric node2 netpold_drop_log_aggregated_total) >= 57 ))'

# A second listener on node2's group: the agent says so once, counts it,
# and enforces. The first agent keeps the group.
pid=$(lab_spawn node2 "$SCN_DIR/netpold-second.log" "$SCN_NETPOLD" --manifests "$MAN" \
	--node-name node2 --backend fake --metrics-addr 127.0.0.1:9465 --debug-addr 127.0.0.1:9467)
second_ready() { [[ $(lab_exec node2 curl -s -m 1 http://127.0.0.1:9465/readyz) == ok ]]; }
lab_check "a second agent with the group taken becomes ready" scn_poll 10 second_ready
lab_check "it says once that the drop log is off" \
	eval '[[ $(grep -c "drop log off" "$SCN_DIR/netpold-second.log") == 1 ]]'
lab_check "it counts it in netpold_drop_log_bind_errors_total" \
	eval 'lab_exec node2 curl -s http://127.0.0.1:9465/metrics | grep -qx "netpold_drop_log_bind_errors_total 1"'
kill "$pid" 2>/dev/null
lab_check "the first agent still logs (toolpod -> dbpod:8080)" \
	eval '[[ $(probes frontend.toolpod $DB 8080 1) == 1 ]] && scn_poll 2 grep -q "dst=backend/dbpod($DB) proto=TCP dport=8080" "$SCN_DIR/netpold-node2.log"'

# --drop-log=off: no line, still enforcing.
lab_check "netpold stops on node1 and node2" scn_agents_down
: >"$SCN_DIR/netpold-node2.log"
lab_check "netpold ready with --drop-log=off" scn_agents_up "$MAN" --drop-log=off
lab_check "toolpod -> dbpod:80 still denied" eval "[[ \$(probes frontend.toolpod $DB 80 5) == 5 ]]"
sleep 1.2
lab_check "--drop-log=off logs no denied line" \
	eval '! grep -q "msg=\"denied\"" "$SCN_DIR/netpold-node2.log"'
lab_check "netpold stops on SIGTERM and --cleanup succeeds" scn_agents_down
lab_check "AKS lab pods deleted" scn_pods_down "$TABLE"

# IPv6: the dual-stack example, other -> web over v6 is denied at web (node1).
MAN6=$SCN_DIR/m6
mkdir -p "$MAN6" && cp "$NPD_SRC_DIR/manifests/examples/dual-stack.yaml" "$MAN6/"
TABLE6=$SCN_DIR/pods6
scn_pods_table "$MAN6" >"$TABLE6"
if lab_check "lab pods of dual-stack.yaml up" scn_pods_up "$TABLE6" &&
	lab_check "netpold ready (dual-stack)" scn_agents_up "$MAN6"; then
	WEB6=$(lab_pod_ip ds.web 6) OTHER6=$(lab_pod_ip ds.other 6)
	one_flow6() {
		lab_check "ds/other -> [$WEB6]:80 denied (20 probes)" eval "[[ \$(probes ds.other $WEB6 80 20) == 20 ]]"
		lab_check "node1: v6 drop log lines count 20 packets" \
			scn_poll 3 sum_is 20 node1 "ds/other($OTHER6)" "ds/web($WEB6)" 80 ingress ds/web-ingress
	}
	one_flow6
	lab_check "ds/client -> [$WEB6]:80 allowed, no line" \
		eval "[[ \$(probes ds.client $WEB6 80 5) == 0 ]] && sleep 1.2 && ! grep -q 'src=ds/client' \"\$SCN_DIR/netpold-node1.log\""
fi
lab_check "netpold stops on SIGTERM and --cleanup succeeds (dual-stack)" scn_agents_down
lab_check "nothing of netpold left on the nodes" scn_no_npd_left node1 node2
scn_pods_down "$TABLE6"

echo "time: total $(scn_since "$T0")s"
lab_summary
