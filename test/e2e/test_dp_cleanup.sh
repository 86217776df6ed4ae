#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_cleanup.sh: `netpold --cleanup` restores a node's netfilter state
# exactly and never touches another writer's rules. In each node namespace a
# foreign writer adds, before netpold runs, a chain with a rule, a FORWARD
# jump to it, INPUT and nat rules (v4 and v6) and an ipset. The state
# (iptables-legacy-save, ip6tables-legacy-save, ipset list -n and the foreign
# set's members) is recorded; netpold enforces the AKS example (node1 stopped
# with SIGTERM, node2 with SIGKILL); a foreign rule added while netpold runs
# survives its syncs; after `netpold --cleanup --backend legacy` the state
# equals the recorded one, the foreign rules still work, and a second
# --cleanup is a no-op. Needs root. Prints "N passed, M failed"; exits
# non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"

# The foreign writer. FOREIGN-CHAIN rejects vm -> toolpod 8080/tcp, which we
# probe to prove the foreign rules keep working throughout.
TOOL=10.244.1.11
foreign() { # NODE
	local n=$1
	lab_exec "$n" iptables-legacy -N FOREIGN-CHAIN &&
		lab_exec "$n" iptables-legacy -A FOREIGN-CHAIN -p tcp --dport 8080 -d "$TOOL" -j REJECT &&
		lab_exec "$n" iptables-legacy -A FORWARD -s 192.168.254.100 -j FOREIGN-CHAIN &&
		lab_exec "$n" iptables-legacy -A INPUT -p tcp --dport 9999 -j ACCEPT &&
		lab_exec "$n" iptables-legacy -t nat -A POSTROUTING -s 10.244.0.0/16 -d 203.0.113.0/24 -j MASQUERADE &&
		lab_exec "$n" ip6tables-legacy -N FOREIGN-CHAIN6 &&
		lab_exec "$n" ip6tables-legacy -A FOREIGN-CHAIN6 -s 2001:db8::1 -j DROP &&
		lab_exec "$n" ip6tables-legacy -A FORWARD -j FOREIGN-CHAIN6 &&
		lab_exec "$n" ipset create foreign-set hash:ip &&
		lab_exec "$n" ipset add foreign-set 10.9.9.9 &&
		lab_exec "$n" iptables-legacy -A FORWARD -m set --match-set foreign-set src -j DROP
}
snapshot() { # NODE: everything, without counters and comments
	{
		echo "## iptables-legacy-save"
		lab_exec "$1" iptables-legacy-save
		echo "## ip6tables-legacy-save"
		lab_exec "$1" ip6tables-legacy-save
		echo "## ipset list -n"
		lab_exec "$1" ipset list -n | sort
		echo "## ipset save foreign-set"
		lab_exec "$1" ipset save foreign-set
	} 2>&1 | sed -e '/^#[^#]/d' -e 's/\[[0-9]*:[0-9]*\]//' -e 's/ initval 0x[0-9a-f]*//'
}
foreign_works() { # vm -> toolpod 8080 rejected by FOREIGN-CHAIN, 80 allowed
	local out
	out=$(printf '%s\n' "vm $TOOL 8080 tcp" "vm $TOOL 80 tcp" | lab_probe_matrix -)
	[[ $out == "vm $TOOL 8080 tcp fail"$'\n'"vm $TOOL 80 tcp ok" ]]
}

for n in node1 node2; do
	lab_check "$n: foreign chains, rules and set added" foreign "$n"
done
lab_check "foreign rule works (vm -> toolpod 8080 rejected, 80 ok)" foreign_works
declare -A BEFORE
for n in node1 node2; do
	BEFORE[$n]=$(snapshot "$n")
done

lab_check "netpold ready on node1 and node2" scn_agents_up "$MAN"
lab_check "netpold's hook is FORWARD rule 1" \
	eval '[[ $(lab_exec node2 iptables-legacy -S FORWARD | sed -n 2p) == "-A FORWARD -j NPD-FORWARD" ]]'
lab_check "foreign rules still in place while netpold runs" \
	eval 'lab_exec node1 iptables-legacy -S FORWARD | grep -q FOREIGN-CHAIN && lab_exec node1 ip6tables-legacy -S FORWARD | grep -q FOREIGN-CHAIN6'
lab_check "foreign rule still works under netpold" foreign_works
cat >"$SCN_DIR/aks.exp" <<EOF
frontend.toolpod 10.244.2.20 80 tcp fail
frontend.apipod 10.244.2.20 80 tcp ok
EOF
lab_check_matrix "$SCN_DIR/aks.exp"

# A foreign rule added while netpold runs survives netpold's next commit
# (a policy change: app-policy removed, so apppod's chains go).
lab_exec node2 iptables-legacy -A FORWARD -s 10.9.9.7 -j DROP
commits0=$(scn_metric node2 'netpold_table_commits_total{family="ipv4"}')
python3 - "$MAN/aks-frontend-backend-db.yaml" <<'EOF'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
docs = [d for d in docs if "name: app-policy" not in d]
open(p + ".tmp", "w").write("\n---\n".join(docs))
EOF
mv "$MAN/aks-frontend-backend-db.yaml.tmp" "$MAN/aks-frontend-backend-db.yaml"
committed() {
	[[ $(scn_metric node2 'netpold_table_commits_total{family="ipv4"}') != "$commits0" ]]
}
lab_check "node2 committed the policy change (ipv4 commits were $commits0)" scn_poll 5 committed
lab_check "foreign rule added while netpold ran survived its commit" \
	eval 'lab_exec node2 iptables-legacy -S FORWARD | grep -q -- "-s 10.9.9.7/32 -j DROP"'
lab_exec node2 iptables-legacy -D FORWARD -s 10.9.9.7 -j DROP

lab_check "node1: netpold stops on SIGTERM" scn_agent_stop node1 TERM
lab_check "node2: netpold killed with SIGKILL" scn_agent_stop node2 KILL
lab_check "rules stay after the agents stopped" \
	eval 'lab_exec node1 iptables-legacy -S | grep -q NPD-FORWARD && lab_exec node2 iptables-legacy -S | grep -q NPD-FORWARD'
lab_check_matrix "$SCN_DIR/aks.exp"

for n in node1 node2; do
	lab_check "$n: netpold --cleanup --backend legacy exits 0" scn_agent_cleanup "$n"
	AFTER=$(snapshot "$n")
	lab_check "$n: state after --cleanup equals the state before netpold" \
		eval '[[ ${BEFORE[$n]} == "$AFTER" ]]'
	if [[ ${BEFORE[$n]} != "$AFTER" ]]; then
		diff <(echo "${BEFORE[$n]}") <(echo "$AFTER") | head -30
	fi
	lab_check "$n: second --cleanup exits 0" scn_agent_cleanup "$n"
	lab_check "$n: second --cleanup changes nothing" eval '[[ ${BEFORE[$n]} == "$(snapshot "$n")" ]]'
done
lab_check "foreign rule works after cleanup" foreign_works
lab_check "no netpold rule left: toolpod -> dbpod open again" \
	eval 'lab_probe frontend.toolpod 10.244.2.20 80 tcp >/dev/null'
echo "time: total $(scn_since "$T0")s"
lab_summary
