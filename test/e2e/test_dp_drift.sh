#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_drift.sh: netpold (--resync-period 1s) repairs drift made behind its
# back in a node's kernel. The AKS example runs on the 2-node lab; on node2
# (dbpod's and apppod's node) someone: deletes the jump to dbpod's ingress
# chain from its dispatch chain (the blocked pair toolpod -> dbpod opens), deletes
# `NPD-FORWARD 2` whatever it is, flushes the ipsets holding apipod's address
# (the allowed pairs apipod -> dbpod and apppod -> apipod break), flushes a
# group chain, deletes the FORWARD -> NPD-FORWARD jump, adds toolpod's address to
# dbpod's allowed-peer set, takes dbpod's out of its group's set and swaps the set of
# ingress-isolated pods for a twin without counters. Each time the kernel
# state (NPD- rules and npd- sets, v4 and v6) must come back exactly, polled
# with a deadline, the blocked pairs blocked again, the allowed pairs working
# again, and netpold_drift_repairs_total must move.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

REPAIR_DEADLINE=${REPAIR_DEADLINE:-6}
scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
scn_setup_agents "netpold --resync-period 1s ready on node1 and node2" --resync-period 1s

DB=10.244.2.20 API=10.244.1.10 DNS=10.244.1.2
cat >"$SCN_DIR/pairs.exp" <<EOF
frontend.toolpod $DB 80 tcp fail
frontend.toolpod $DB 80 udp fail
backend.dbpod $DNS 53 udp fail
frontend.apppod $DB 80 tcp fail
frontend.apipod $DB 80 tcp ok
frontend.apppod $API 80 tcp ok
frontend.apppod $DNS 53 udp ok
EOF
lab_check_matrix "$SCN_DIR/pairs.exp"
BEFORE=$(scn_npd_state node2)
lab_check "node2 has NPD- rules and npd- sets" eval '[[ $(grep -c . <<<"$BEFORE") -gt 10 ]]'

state_back() { [[ $(scn_npd_state node2) == "$BEFORE" ]]; }
# The agent is stopped while a drift is made and looked at: with a 1 s resync it could
# otherwise repair it before the look, and the check would fail for the wrong reason.
freeze() { kill -STOP "$(scn_agent_pid node2)"; }
thaw() { kill -CONT "$(scn_agent_pid node2)"; }
repairs() { scn_metric node2 netpold_drift_repairs_total || echo 0; }

# drift DESC PROBE_DURING CMD...: run CMD in node2, check it changed our
# state, then poll until the state is back; then the pairs hold again.
# PROBE_DURING is "FROM IP PORT PROTO ok|fail": what the drift did to packets
# (probed once while the agent is still stopped, for the record; not asserted).
drift() {
	local desc=$1 during=$2 r0 t out
	shift 2
	r0=$(repairs)
	freeze
	if ! lab_exec node2 "$@"; then
		thaw
		lab_check "$desc: the drift command ran" false
		return
	fi
	lab_check "$desc: kernel state changed" eval '! state_back'
	if [[ -n $during ]]; then
		out=$(LAB_PROBE_TIMEOUT=0.3 lab_probe_matrix -v - <<<"${during% *}")
		echo "     right after the drift: $out (without the repair: ${during##* })"
	fi
	thaw
	t=$(scn_now)
	if scn_poll "$REPAIR_DEADLINE" state_back; then
		lab_check "$desc: kernel state back in $(scn_since "$t")s" true
	else
		lab_check "$desc: kernel state back within ${REPAIR_DEADLINE}s" false
		diff <(echo "$BEFORE") <(scn_npd_state node2) | head -20
	fi
	lab_check_matrix "$SCN_DIR/pairs.exp"
	lab_check "$desc: netpold_drift_repairs_total moved ($r0 -> $(repairs))" \
		eval "awk -v a=$r0 -v b=\$(repairs) 'BEGIN { exit !(b > a) }'"
}

# 1. the jump to dbpod's group's ingress chain: toolpod -> dbpod would open. It is the
# rule of an ingress dispatch chain (NPD-FWD-I-<x>) matching, by destination, the group
# set that holds dbpod. `-S CHAIN` prints "-N CHAIN" first: rule number = line number - 1.
JUMPNO= JUMPCHAIN= DBGROUP=
for chain in $(lab_exec node2 iptables-legacy -S | awk '$1 == "-N" && $2 ~ /^NPD-FWD-I-/ { print $2 }'); do
	n=0
	while read -r line; do
		n=$((n + 1))
		[[ $line == *"-j NPD-I-"* ]] || continue
		s=$(grep -o 'match-set npd-[0-9a-f-]* dst' <<<"$line" | cut -d' ' -f2)
		if [[ -n $s ]] && lab_exec node2 ipset test "$s" "$DB" 2>/dev/null; then
			JUMPNO=$n JUMPCHAIN=$chain DBGROUP=$s
			break 2
		fi
	done < <(lab_exec node2 iptables-legacy -S "$chain")
done
JUMP=
[[ -n $JUMPCHAIN ]] && JUMP=$(lab_exec node2 iptables-legacy -S "$JUMPCHAIN" | sed -n "${JUMPNO}p")
lab_check "found dbpod's ingress jump in ${JUMPCHAIN:-no dispatch chain} (rule $((${JUMPNO:-1} - 1)))" eval '[[ -n $JUMP ]]'
drift "delete dbpod's ingress jump ($JUMPCHAIN $((${JUMPNO:-1} - 1)))" "frontend.toolpod $DB 80 tcp ok" \
	iptables-legacy -D "${JUMPCHAIN:-NPD-FWD-I}" $((${JUMPNO:-1} - 1))

# 2. literally rule 2 of NPD-FORWARD (1 is established/related).
R2=$(lab_exec node2 iptables-legacy -S NPD-FORWARD | sed -n 3p)
echo "     NPD-FORWARD 2 is: $R2"
drift "iptables-legacy -D NPD-FORWARD 2" "" iptables-legacy -D NPD-FORWARD 2

# 3. flush the sets holding apipod: the allowed pairs would break.
mapfile -t APISETS < <(for s in $(lab_exec node2 ipset list -n | grep '^npd-'); do
	lab_exec node2 ipset list "$s" | grep -qx "$API" && echo "$s"
done)
lab_check "found the sets holding apipod (${APISETS[*]})" eval '((${#APISETS[@]} >= 1))'
flush_sets() { local s; for s in "$@"; do ipset flush "$s" || return 1; done; }
export -f flush_sets
drift "ipset flush ${APISETS[*]}" "frontend.apipod $DB 80 tcp fail" \
	bash -c 'flush_sets "$@"' _ "${APISETS[@]}"

# 4. flush dbpod's ingress chain: REJECT gone, toolpod -> dbpod would open.
ICHAIN=${JUMP##*-j }
drift "iptables-legacy -F $ICHAIN" "frontend.toolpod $DB 80 tcp ok" iptables-legacy -F "$ICHAIN"

# 5. the hook itself: FORWARD -> NPD-FORWARD.
drift "iptables-legacy -D FORWARD -j NPD-FORWARD" "frontend.toolpod $DB 80 udp ok" \
	iptables-legacy -D FORWARD -j NPD-FORWARD

# 6. add a stray member to a peer set: toolpod's address in dbpod's allowed set.
DBSET=$(lab_exec node2 iptables-legacy -S | grep 'backend/db-policy ingress' |
	grep -o 'match-set npd-[0-9a-f-]*' | head -1 | cut -d' ' -f2)
if [[ -n $DBSET ]]; then
	drift "ipset add $DBSET 10.244.1.11 (toolpod)" "frontend.toolpod $DB 80 tcp ok" \
		ipset add "$DBSET" 10.244.1.11
else
	lab_check "found dbpod's ingress peer set" false
fi

# 6b. take dbpod's address out of its group's set: toolpod -> dbpod would open.
if [[ -n $DBGROUP ]]; then
	drift "ipset del $DBGROUP $DB (dbpod leaves its group)" "frontend.toolpod $DB 80 tcp ok" \
		ipset del "$DBGROUP" "$DB"
else
	lab_check "found dbpod's group set" false
fi

# 6c. swap the set of the ingress-isolated local pods (the one NPD-DENY-I's rejects match,
# whose entries count each pod's denied packets) for a twin with the same members but
# without counters: the verdicts hold, but the deny would count nothing; only the set's
# type says so.
uncount_set() {
	local s=$1 m
	ipset create npd-e2e-twin hash:ip family inet maxelem 1024 || return 1
	for m in $(ipset list "$s" | sed '1,/^Members:/d' | cut -d' ' -f1); do
		ipset add npd-e2e-twin "$m" || return 1
	done
	ipset swap npd-e2e-twin "$s" && ipset destroy npd-e2e-twin
}
export -f uncount_set
ISOSET=$(lab_exec node2 iptables-legacy -S NPD-DENY-I | grep -o 'match-set npd-[0-9a-f]*-4 dst' |
	head -n 1 | cut -d' ' -f2)
if [[ -n $ISOSET ]] && lab_exec node2 ipset test "$ISOSET" "$DB" 2>/dev/null; then
	lab_check "the set of ingress-isolated pods ($ISOSET, dbpod's among them) has counters" \
		eval 'lab_exec node2 ipset list -t "$ISOSET" | grep -q "^Header: .* counters"'
	drift "ipset swap $ISOSET for a twin without counters" "" \
		bash -c 'uncount_set "$@"' _ "$ISOSET"
	lab_check "the repair was logged as a counters drift" \
		grep -q "msg=\"drift\" set=$ISOSET what=counters" "$SCN_DIR/netpold-node2.log"
else
	lab_check "found the set of ingress-isolated pods holding dbpod in NPD-DENY-I" false
fi

# 7. another writer inserts an ACCEPT above our hook: everything would bypass netpold.
# Our own lines do not change, only their place, so this polls FORWARD's first rule.
hook_first() { [[ $(lab_exec node2 iptables-legacy -S FORWARD | sed -n 2p) == "-A FORWARD -j NPD-FORWARD" ]]; }
r0=$(repairs)
freeze
lab_exec node2 iptables-legacy -w -I FORWARD 1 -j ACCEPT
lab_check "foreign ACCEPT now above our hook" eval '! hook_first'
thaw
t=$(scn_now)
if scn_poll "$REPAIR_DEADLINE" hook_first; then
	lab_check "hook back on top of FORWARD in $(scn_since "$t")s" true
else
	lab_check "hook back on top of FORWARD within ${REPAIR_DEADLINE}s" false
fi
lab_check "the foreign ACCEPT is kept, below our hook" \
	eval '[[ $(lab_exec node2 iptables-legacy -S FORWARD | sed -n 3p) == "-A FORWARD -j ACCEPT" ]]'
lab_check_matrix "$SCN_DIR/pairs.exp"
lab_check "displaced hook counted as a drift repair ($r0 -> $(repairs))" \
	eval "awk -v a=$r0 -v b=\$(repairs) 'BEGIN { exit !(b > a) }'"
lab_exec node2 iptables-legacy -w -D FORWARD -j ACCEPT

lab_check "netpold still running on node2" eval '_lab_proc_alive $(scn_agent_pid node2)'
lab_check "netpold stops and cleans up" scn_agents_down
lab_check "nothing of netpold left" scn_no_npd_left node1 node2
echo "time: total $(scn_since "$T0")s"
lab_summary
