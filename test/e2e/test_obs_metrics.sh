#!/usr/bin/env bash
# test_obs_metrics.sh: the per-policy counters on real packets. The AKS example on the
# 2-node lab (netpold on both nodes, counters read every 0.5 s, a state file): 20 allowed
# probes raise the admitting rule of the admitting policy (at the destination's ingress and
# at the source's egress) by >= 20; 20 denied probes raise the destination pod's denied
# counter by >= 20; an egress denial raises the source's; the outside vm is counted as a
# source too. `promtool check metrics` prints nothing on the live scrape; the policy
# generation follows an edit; the totals survive resyncs, agent restarts (SIGTERM, SIGKILL),
# a chain rewrite read only before its commit (--counters-interval 0) and a pod leaving
# isolation (its set entry read only before it goes). Then the dual-stack example replaces
# the manifests (the agents reload) for the same over IPv6.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
# shellcheck disable=SC2016 # eval'd checks expand when run
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_need_bins promtool
scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
# A generation to follow: the files source reads metadata.generation like the API's.
sed -i '/^  name: db-policy$/a\  generation: 7' "$MAN/aks-frontend-backend-db.yaml"
ARGS=(--counters-interval 0.5s --resync-period 1s)
# Each node its own state file; node2 restarts with the same one below.
for n in node1 node2; do
	scn_agent_start "$n" "$MAN" "${ARGS[@]}" --state-file "$SCN_DIR/counters-$n"
done
lab_check "netpold ready on node1 and node2" eval 'scn_agent_ready node1 && scn_agent_ready node2'

DB=10.244.2.20 API=10.244.1.10 DNS=10.244.1.2

# series NODE KIND NS NAME DIR [RULE]: the series name of a policy rule or pod denial.
series() {
	if [[ $2 == policy ]]; then
		echo "netpold_policy_rule_packets_total{namespace=\"$3\",policy=\"$4\",direction=\"$5\",rule=\"$6\"}"
	else
		echo "netpold_pod_denied_packets_total{namespace=\"$3\",pod=\"$4\",direction=\"$5\"}"
	fi
}
value() { scn_metric "$1" "$2" || echo absent; }
# risen NODE SERIES BEFORE N: the series is at least BEFORE + N.
risen() {
	local v
	v=$(value "$1" "$2")
	[[ $v != absent ]] && awk -v v="$v" -v b="$3" -v n="$4" 'BEGIN { exit !(v >= b + n) }'
}
# probes N FROM IP PORT PROTO WANT: N probes, each must give WANT (ok|fail).
probes() {
	local i got bad=0
	for ((i = 0; i < $1; i++)); do
		got=$(lab_probe "$2" "$3" "$4" "$5")
		[[ $got == "$6" ]] || bad=$((bad + 1))
	done
	[[ $bad == 0 ]] || _scn_err "$bad of $1 probes $2 -> $3:$4/$5 were not $6"
	return $bad
}
# case_counts DESC N FROM IP PORT PROTO WANT NODE SERIES [NODE SERIES...]: N probes, then
# each series rises by >= N within 3 s (a reading every 0.5 s).
case_counts() {
	local desc=$1 n=$2 from=$3 ip=$4 port=$5 proto=$6 want=$7 i
	shift 7
	local -a nodes=() names=() before=()
	while (($#)); do
		nodes+=("$1")
		names+=("$2")
		before+=("$(value "$1" "$2")")
		shift 2
	done
	for i in "${!names[@]}"; do
		if [[ ${before[i]} == absent ]]; then
			lab_check "$desc: ${names[i]} exported on ${nodes[i]} before the probes" false
			return
		fi
	done
	lab_check "$desc: $n probes $from -> $ip:$port/$proto all $want" \
		probes "$n" "$from" "$ip" "$port" "$proto" "$want"
	for i in "${!names[@]}"; do
		lab_check "$desc: ${names[i]} on ${nodes[i]} rose by >= $n (was ${before[i]})" \
			scn_poll 3 risen "${nodes[i]}" "${names[i]}" "${before[i]}" "$n"
		echo "     now $(value "${nodes[i]}" "${names[i]}")"
	done
}

case_counts "allowed apipod -> dbpod" 20 frontend.apipod $DB 80 tcp ok \
	node2 "$(series node2 policy backend db-policy ingress 0)" \
	node1 "$(series node1 policy frontend api-policy egress 0)"
case_counts "denied toolpod -> dbpod (ingress)" 20 frontend.toolpod $DB 80 tcp fail \
	node2 "$(series node2 pod backend dbpod ingress)"
case_counts "denied dbpod -> coredns (egress)" 20 backend.dbpod $DNS 53 udp fail \
	node2 "$(series node2 pod backend dbpod egress)"
case_counts "external vm -> apipod allowed" 20 vm $API 80 tcp ok \
	node1 "$(series node1 policy frontend api-policy ingress 0)"
case_counts "external vm -> dbpod denied" 20 vm $DB 80 tcp fail \
	node2 "$(series node2 pod backend dbpod ingress)"
# An allowed pair never counts as denied.
d_before=$(value node2 "$(series node2 pod backend dbpod ingress)")
probes 10 frontend.apipod $DB 80 tcp ok
sleep 1.2
lab_check "allowed probes leave dbpod's denied counter alone ($d_before)" \
	eval '[[ $(value node2 "$(series node2 pod backend dbpod ingress)") == "$d_before" ]]'
lab_check "toolpod (not isolated) has no denied series" \
	eval '! scn_metric node1 "$(series node1 pod frontend toolpod ingress)"'

# The exposition as Prometheus's own linter reads it.
scn_http node2 /metrics >"$SCN_DIR/scrape.txt"
lint=$(promtool check metrics <"$SCN_DIR/scrape.txt" 2>&1)
lab_check "promtool check metrics prints nothing on a live scrape" eval '[[ -z $lint ]]'
[[ -z $lint ]] || head -n 10 <<<"$lint" | sed 's/^/     /'
lab_check "no chain-hash labelled counters left" eval '! grep -q "chain=\"NPD-" "$SCN_DIR/scrape.txt"'
lab_check "every family has HELP and TYPE" eval \
	'[[ $(grep -c "^# HELP" "$SCN_DIR/scrape.txt") == $(grep -c "^# TYPE" "$SCN_DIR/scrape.txt") ]]'

# shellcheck disable=SC2034 # read by the eval'd checks
GEN='netpold_policy_generation_applied{namespace="backend",policy="db-policy"}'
lab_check "generation applied: db-policy at 7" eval '[[ $(value node2 "$GEN") == 7 ]]'
sed -i 's/^  generation: 7$/  generation: 8/' "$MAN/aks-frontend-backend-db.yaml"
lab_check "generation applied follows the edit to 8" scn_poll 5 eval '[[ $(value node2 "$GEN") == 8 ]]'

# Resyncs (every 1 s) and a restart keep the totals.
S_ALLOW=$(series node2 policy backend db-policy ingress 0)
S_DENY=$(series node2 pod backend dbpod ingress)
a0=$(value node2 "$S_ALLOW") d0=$(value node2 "$S_DENY")
sleep 2.5
lab_check "after resyncs: totals unchanged ($a0, $d0)" \
	eval '[[ $(value node2 "$S_ALLOW") == "$a0" && $(value node2 "$S_DENY") == "$d0" ]]'
lab_check "node2's agent stops (SIGTERM)" scn_agent_stop node2
probes 5 frontend.toolpod $DB 80 tcp fail # enforced by the rules left in place
scn_agent_start node2 "$MAN" "${ARGS[@]}" --state-file "$SCN_DIR/counters-node2"
lab_check "node2's agent ready after the restart" scn_agent_ready node2
lab_check "after the restart: allowed total kept (>= $a0)" scn_poll 3 risen node2 "$S_ALLOW" "$a0" 0
lab_check "after the restart: denied total kept, plus the 5 denied while it was down" \
	scn_poll 3 risen node2 "$S_DENY" "$d0" 5
echo "     allowed $(value node2 "$S_ALLOW") denied $(value node2 "$S_DENY")"
case_counts "after the restart, allowed apipod -> dbpod" 20 frontend.apipod $DB 80 tcp ok \
	node2 "$S_ALLOW"
lab_check "and a second restart (SIGKILL) keeps them too" scn_agent_stop node2 KILL
scn_agent_start node2 "$MAN" "${ARGS[@]}" --state-file "$SCN_DIR/counters-node2"
lab_check "node2's agent ready after the second restart" scn_agent_ready node2
lab_check "allowed total >= $a0 + 20 after the SIGKILL restart" scn_poll 3 risen node2 "$S_ALLOW" "$a0" 20

# A chain rewrite (here a drift repair) restarts the kernel's counters of that chain:
# netpold reads them just before the commit. With --counters-interval 0 that reading is
# the only one, so the total can only rise if it happens.
lab_check "node2's agent restarts with --counters-interval 0" scn_agent_stop node2
scn_agent_start node2 "$MAN" --counters-interval 0 --resync-period 1s \
	--state-file "$SCN_DIR/counters-node2"
lab_check "node2's agent ready (readings only before commits)" scn_agent_ready node2
a2=$(value node2 "$S_ALLOW")
probes 20 frontend.apipod $DB 80 tcp ok
sleep 1.5
lab_check "no commit, no reading: the allowed total stays at $a2" \
	eval '[[ $(value node2 "$S_ALLOW") == "$a2" ]]'
PI=$(lab_exec node2 iptables-legacy -S | awk '/-A NPD-PI-.*backend\/db-policy ingress\[0\]/ { print $2; exit }')
# shellcheck disable=SC2034 # read by the eval'd check
repairs=$(value node2 netpold_drift_repairs_total)
lab_exec node2 iptables-legacy -A "$PI" -m comment --comment "drift" -j RETURN
lab_check "the resync repairs the drift in db-policy's chain $PI" \
	scn_poll 5 eval '[[ $(value node2 netpold_drift_repairs_total) != "$repairs" ]]'
lab_check "the kernel counters of $PI restarted at 0 (rewritten)" \
	eval '[[ $(lab_exec node2 iptables-legacy -L "$PI" -v -n -x | awk "NR == 3 { print \$1 }") == 0 ]]'
lab_check "the total took the 20 packets read just before the rewrite (>= $a2 + 20)" \
	risen node2 "$S_ALLOW" "$a2" 20
echo "     allowed $(value node2 "$S_ALLOW")"

# A pod no longer isolated (dbpod relabelled out of db-policy, the one policy isolating it)
# leaves the counted set of isolated pods, and its entry takes along what it counted:
# netpold reads that set just before. Still with --counters-interval 0, so only that reading can raise the total.
d2=$(value node2 "$S_DENY")
probes 20 frontend.toolpod $DB 80 tcp fail
sleep 1.5
lab_check "no reading: the denied total stays at $d2" eval '[[ $(value node2 "$S_DENY") == "$d2" ]]'
sed -i '/^  name: dbpod$/,/^---$/ s/^    app: db$/    app: db-retired/' "$MAN/aks-frontend-backend-db.yaml"
lab_check "dbpod relabelled out of isolation: the total took its 20 denied (>= $d2 + 20)" \
	scn_poll 5 risen node2 "$S_DENY" "$d2" 20
lab_check "and dbpod is no longer isolated" eval '[[ $(lab_probe frontend.toolpod $DB 80 tcp) == ok ]]'
echo "     denied $(value node2 "$S_DENY")"

# IPv6: the dual-stack example replaces the manifests; the agents reload.
scn_pods_down "$TABLE"
rm -f "$MAN"/*.yaml
cp "$NPD_SRC_DIR/manifests/examples/dual-stack.yaml" "$MAN/"
TABLE6=$SCN_DIR/pods6
scn_pods_table "$MAN" >"$TABLE6"
lab_check "lab pods of dual-stack.yaml up" scn_pods_up "$TABLE6"
WEB6=$(lab_pod_ip ds.web 6)
S6=$(series node1 policy ds web-ingress ingress 0)
lab_check "node1 exports web-ingress after the reload" scn_poll 5 scn_metric node1 "$S6"
case_counts "v6 allowed client -> web (named port http)" 20 ds.client "$WEB6" 80 tcp ok node1 "$S6"
case_counts "v6 denied other -> web" 20 ds.other "$WEB6" 80 tcp fail \
	node1 "$(series node1 pod ds web ingress)"
case_counts "v6 external vm -> web denied" 20 vm "$WEB6" 80 tcp fail \
	node1 "$(series node1 pod ds web ingress)"

lab_check "netpold stops and cleans up on both nodes" scn_agents_down
scn_pods_down "$TABLE6"
echo "     (total $(scn_since "$T0")s)"
lab_summary
