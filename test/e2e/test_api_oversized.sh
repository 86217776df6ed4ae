#!/usr/bin/env bash
# test_api_oversized.sh: a 100 MB watch line must not be buffered whole. netpold
# rejects the object it carries (named: its metadata came before the cut), counts it,
# keeps enforcing what it had, and the same watch goes on delivering changes.
#
# Lab + test API server as in test_api_faults.sh (AKS objects, netpold --kubeconfig on
# node1 and node2). The API server writes into every networkpolicies watch one MODIFIED
# line of 100 MiB for backend/db-policy whose spec would isolate dbpod with no rule; the
# agents must reject it (netpold_objects_rejected_total{kind="NetworkPolicy",
# reason="size"}), apipod must still reach dbpod, each agent's peak RSS (VmHWM) must stay
# under 3 times what it was before the line (a boundedness check, not a benchmark: the
# figures are printed), and deleting db-policy afterwards must open dbpod to toolpod.
# Needs root.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

api_setup_aks_db

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
rejected() { api_metrics_total netpold_objects_rejected_total "$@" || echo -1; }
declare -A base
for n in node1 node2; do
	base[$n]=$(hwm_kb "$(scn_agent_pid "$n")")
done
r0=$(rejected 'kind="NetworkPolicy",reason="size"')
w0=$(api_metrics_total netpold_watch_restarts_total || echo -1)
SIZE=$((100 << 20))
echo "== one watch line of $SIZE bytes for backend/db-policy"
lab_check "fault oversized" api_fault oversized "$SIZE" networkpolicy backend db-policy
_rejected() { api_ge "$(rejected 'kind="NetworkPolicy",reason="size"')" $((r0 + 2)); }
lab_check "both agents counted the rejection" scn_poll 120 _rejected
for n in node1 node2; do
	lab_check "$n logged it with the object's name" \
		grep -q 'kind=limit object=NetworkPolicy name=backend/db-policy' "$SCN_DIR/netpold-$n.log"
done
for n in node1 node2; do
	h=$(hwm_kb "$(scn_agent_pid "$n")")
	echo "     $n VmHWM: ${base[$n]} kB before, $h kB after the 100 MiB line"
	lab_check "$n peak RSS stays under 3x ($h kB <= 3 x ${base[$n]} kB)" \
		api_ge $((3 * base[$n])) "$h"
done
api_expect "after the line: db-policy unchanged" 10 <<-EOF
	frontend.apipod backend.dbpod 80 tcp ok
	frontend.toolpod backend.dbpod 80 tcp fail
EOF
lab_check "the watches were not restarted for it" \
	test "$(api_metrics_total netpold_watch_restarts_total || echo -2)" = "$w0"

echo "== delete db-policy: the same watch delivers it"
t0=$(scn_now)
lab_check "delete db-policy" api_ctl delete networkpolicy backend db-policy
api_expect "after the delete: toolpod reaches dbpod" 10 <<-EOF
	frontend.toolpod backend.dbpod 80 tcp ok
EOF
echo "     enforced $(scn_since "$t0") s after the delete"

api_finish
