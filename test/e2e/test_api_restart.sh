#!/usr/bin/env bash
# test_api_restart.sh: netpold killed with SIGKILL and restarted, on real packets.
#
# Lab + test API server as in test_api_seeds.sh (AKS frontend/backend/db loaded
# through the API, netpold --kubeconfig on node1 and node2). Two pairs are probed
# every 20 ms for the whole test: toolpod -> dbpod:80 (blocked by db-policy on
# node2) and apipod -> dbpod:80 (allowed). Round 1: both agents SIGKILLed and
# restarted. Round 2: both SIGKILLed, apppod relabelled app=api through the API
# while no agent runs, restarted: the change is enforced after the restart.
# The contract: rules from the previous run stay until the new plan replaces them,
# so the blocked pair never gets through (zero ok lines) and the allowed pair
# keeps working after the restart (and through it).
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

api_setup_aks
scn_aks_writeup "$SCN_DIR/aks.writeup.exp"
scn_matrix_eventually "$SCN_DIR/aks.writeup.exp" 15 || api_dump_on_failure

db=$(lab_pod_ip backend.dbpod)
WB=$SCN_DIR/watch-blocked
WA=$SCN_DIR/watch-allowed
pb=$(lab_probe_watch frontend.toolpod tcp "$db" 80 "$WB" 0.02)
pa=$(lab_probe_watch frontend.apipod tcp "$db" 80 "$WA" 0.02)
lab_check "both watch probes run" api_watch_wait "$WB" 20 10
api_watch_wait "$WA" 20 10

# kill_both: SIGKILL both agents, wait until they are gone.
kill_both() {
	local n pid
	for n in node1 node2; do
		pid=$(scn_agent_pid "$n")
		kill -KILL "$pid" 2>/dev/null || return 1
	done
	for n in node1 node2; do
		scn_poll 5 bash -c "! kill -0 $(scn_agent_pid "$n") 2>/dev/null" || return 1
		rm -f "$SCN_DIR/agent-$n.pid"
	done
}

# npd_rules_left: NPD- chains still in both nodes' kernels.
npd_rules_left() {
	scn_npd_state node1 | grep -q 'NPD-' && scn_npd_state node2 | grep -q 'NPD-'
}

for round in 1 2; do
	echo "== round $round: SIGKILL both agents"
	lab_check "round $round: SIGKILL netpold on node1 and node2" kill_both
	t_kill=$(scn_now)
	lab_check "round $round: the previous run's rules stay in the kernel" npd_rules_left
	if ((round == 2)); then
		lab_check "label apppod app=api while no agent runs" api_ctl label pod frontend apppod app=api
	fi
	# Let the probes see the kernel with no agent for a moment (20+ probes each).
	api_watch_wait "$WB" 20 10
	api_watch_wait "$WA" 20 10
	t_start=$(scn_now)
	lab_check "round $round: netpold restarted and ready on both nodes" api_agents_up
	t_ready=$(scn_now)
	echo "     restart to ready: $(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.2f", b - a }') s"
	api_watch_wait "$WB" 25 10
	api_watch_wait "$WA" 25 10
	okb=$(api_watch_count "$WB" ok)
	nb=$(api_watch_count "$WB" fail "$t_kill")
	faila=$(api_watch_count "$WA" fail "$t_kill")
	oka=$(api_watch_count "$WA" ok "$t_ready")
	echo "     blocked pair since the kill: $nb fail, $okb ok in the whole run; allowed pair: $faila fail since the kill, $oka ok after ready"
	lab_check "round $round: blocked pair: zero ok lines ($okb)" test "$okb" = 0
	lab_check "round $round: blocked pair probed through the restart ($nb)" test "$nb" -ge 40
	lab_check "round $round: allowed pair works after the restart ($oka ok)" test "$oka" -ge 20
	lab_check "round $round: allowed pair never failed through the restart ($faila fail)" test "$faila" = 0
	if ((round == 2)); then
		api_expect "the change made while no agent ran is enforced" 15 <<-EOF
			frontend.apppod backend.dbpod 80 tcp ok
			frontend.apppod frontend.apipod 80 tcp fail
			frontend.toolpod backend.dbpod 80 tcp fail
		EOF
	fi
done
kill "$pb" "$pa" 2>/dev/null
lab_check "label apppod app=app" api_ctl label pod frontend apppod app=app
scn_matrix_eventually "$SCN_DIR/aks.writeup.exp" 15 || api_dump_on_failure

lab_check "netpold stops on SIGTERM" scn_agents_down
lab_check "netpold --cleanup leaves nothing" scn_no_npd_left node1 node2
echo "time: $(scn_since "$T0")s"
lab_summary
