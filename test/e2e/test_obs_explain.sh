#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2034 # eval strings read these variables
# test_obs_explain.sh: `netpolctl explain` against the running agent agrees
# with `netpolctl simulate` on the same manifests for every pair of the AKS
# example: every pod and the outside vm to every other pod, on 80/TCP and
# 53/UDP, asked of both nodes' agents (each holds the whole cluster's
# objects): same text, same exit status. Then the errors: an unknown pod is
# exit 2 with the agent's reason, a bad port is exit 2, no agent is exit 2.
# The counters explain shows for the deciding rule (db-policy's ingress rule
# admitting apipod) and for dbpod's default deny rise by the probes sent.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

DEBUG_URL=http://127.0.0.1:9466
scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
lab_check "netpold ready on node1 and node2" scn_agents_up "$MAN" --counters-interval 100ms

mapfile -t PODS < <(awk '$1 !~ /^#/ { print $2 "/" $3 }' "$TABLE")
SOURCES=("${PODS[@]}" "$SCN_VM4")
# The explanation is the first three lines; counters follow.
pairs=0 same=0 allowed=0
for node in node1 node2; do
	for port in 80/tcp 53/udp; do
		for from in "${SOURCES[@]}"; do
			for to in "${PODS[@]}"; do
				[[ $from == "$to" ]] && continue
				want=$("$SCN_NETPOLCTL" simulate -f "$MAN" --from "$from" --to "$to" --port "$port")
				wrc=$?
				got=$(lab_exec "$node" "$SCN_NETPOLCTL" explain --agent "$DEBUG_URL" \
					--from "$from" --to "$to" --port "$port")
				grc=$?
				pairs=$((pairs + 1))
				((wrc == 0)) && allowed=$((allowed + 1))
				if [[ $grc == "$wrc" && $(head -n 3 <<<"$got") == "$want" ]]; then
					same=$((same + 1))
				elif ((pairs - same <= 3)); then
					echo "  differs ($node): $from -> $to $port: simulate $wrc, explain $grc"
					diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
				fi
			done
		done
	done
done
echo "     ($pairs pairs, $allowed allowed by simulate)"
lab_check "explain agrees with simulate on all $pairs pairs (both nodes, 80/tcp, 53/udp)" \
	eval '((pairs > 0 && same == pairs && allowed > 0 && allowed < pairs))'

out=$(lab_exec node1 "$SCN_NETPOLCTL" explain --agent "$DEBUG_URL" --from frontend/apipod \
	--to backend/dbpod --port 80)
rc=$?
lab_check "apipod -> dbpod:80: allowed, exit 0, names db-policy's ingress rule 0" \
	eval '((rc == 0)) && grep -q "counters of ingress rule 0 of backend/db-policy" <<<"$out"'
out=$(lab_exec node1 "$SCN_NETPOLCTL" explain --agent "$DEBUG_URL" --from frontend/toolpod \
	--to backend/dbpod --port 80)
rc=$?
lab_check "toolpod -> dbpod:80: denied, exit 1, names dbpod's default deny" \
	eval '((rc == 1)) && grep -q "counters of the ingress default deny of backend/dbpod" <<<"$out"'
printf '%s\n' "$out" | sed 's/^/     /'
# The deciding rules' counters, on dbpod's node: 20 allowed and 20 denied probes.
probes() { # FROM IP PORT N: N TCP probes in parallel; prints how many succeeded
	local i
	for ((i = 0; i < $4; i++)); do echo "$1 $2 $3 tcp"; done |
		lab_probe_matrix - | grep -c ' ok$'
}
packets_of() { # WHAT FROM: the packets explain on node2 shows for WHAT (to dbpod:80)
	lab_exec node2 "$SCN_NETPOLCTL" explain --agent "$DEBUG_URL" --from "$2" \
		--to backend/dbpod --port 80 | grep -F "counters of $1: " |
		sed -n 's/.*: \([0-9]*\) packets.*/\1/p'
}
at_least() { local n; n=$(packets_of "$2" "$3"); [[ -n $n ]] && ((n >= $1)); }
base_ok=$(packets_of "ingress rule 0 of backend/db-policy" frontend/apipod)
base_deny=$(packets_of "the ingress default deny of backend/dbpod" frontend/toolpod)
lab_check "node2 knows both counters before the probes ($base_ok, $base_deny)" \
	eval '[[ -n $base_ok && -n $base_deny ]]'
lab_check "apipod -> dbpod:80: 20 probes succeed" eval '[[ $(probes frontend.apipod 10.244.2.20 80 20) == 20 ]]'
lab_check "toolpod -> dbpod:80: 20 probes fail" eval '[[ $(probes frontend.toolpod 10.244.2.20 80 20) == 0 ]]'
lab_check "explain: db-policy ingress rule 0 counted >= 20 more packets" \
	scn_poll 3 at_least $((${base_ok:-0} + 20)) "ingress rule 0 of backend/db-policy" frontend/apipod
lab_check "explain: dbpod's ingress default deny counted >= 20 more packets" \
	scn_poll 3 at_least $((${base_deny:-0} + 20)) "the ingress default deny of backend/dbpod" frontend/toolpod
echo "     (rule 0: $base_ok -> $(packets_of "ingress rule 0 of backend/db-policy" frontend/apipod) packets," \
	"default deny: $base_deny -> $(packets_of "the ingress default deny of backend/dbpod" frontend/toolpod))"

err=$(lab_exec node1 "$SCN_NETPOLCTL" explain --agent "$DEBUG_URL" --from frontend/nosuch \
	--to backend/dbpod --port 80 2>&1)
rc=$?
lab_check "an unknown pod: exit 2 and the agent's 404 reason" \
	eval '((rc == 2)) && grep -q "404: no pod frontend/nosuch" <<<"$err"'
lab_exec node1 "$SCN_NETPOLCTL" explain --agent "$DEBUG_URL" --from frontend/apipod \
	--to backend/dbpod --port 99999 >/dev/null 2>&1
rc=$?
lab_check "a bad port: exit 2" eval '((rc == 2))'
lab_exec node1 "$SCN_NETPOLCTL" explain --agent http://127.0.0.1:1 --from frontend/apipod \
	--to backend/dbpod --port 80 >/dev/null 2>&1
rc=$?
lab_check "no agent there: exit 2" eval '((rc == 2))'

lab_check "netpold stops on SIGTERM and --cleanup succeeds" scn_agents_down
lab_check "nothing of netpold left on the nodes" scn_no_npd_left node1 node2
lab_check "lab pods deleted" scn_pods_down "$TABLE"
echo "time: total $(scn_since "$T0")s"
lab_summary
