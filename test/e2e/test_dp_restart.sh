#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_restart.sh: restarting netpold never opens a window. The AKS example
# runs on the 2-node lab; blocked pairs (cross-node toolpod -> dbpod TCP and
# UDP, same-node apppod -> dbpod) and allowed pairs (cross-node apipod ->
# dbpod, same-node toolpod -> apipod) are probed continuously every 20 ms
# with real packets while netpold is stopped with SIGTERM and started again,
# then killed with SIGKILL and started again, on each node and on both at
# once, staying down for a while each time. Zero "ok" samples for the blocked
# pairs, zero failures for the allowed pairs, samples taken in every
# down-window, and the same chains and sets (stable names) afterwards.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
scn_setup_agents "netpold ready on node1 and node2"

DB=10.244.2.20 API=10.244.1.10
# name FROM PROTO IP PORT expected
PAIRS=(
	"blk-cross-tcp frontend.toolpod tcp $DB 80 fail"
	"blk-cross-udp frontend.toolpod udp $DB 80 fail"
	"blk-same-tcp frontend.apppod tcp $DB 80 fail"
	"ok-cross-tcp frontend.apipod tcp $DB 80 ok"
	"ok-same-tcp frontend.toolpod tcp $API 80 ok"
)
for p in "${PAIRS[@]}"; do
	read -r name from proto ip port want <<<"$p"
	echo "$from $ip $port $proto $want"
done >"$SCN_DIR/pairs.exp"
lab_check_matrix "$SCN_DIR/pairs.exp"
STATE_BEFORE=$(scn_npd_state node1; echo "--"; scn_npd_state node2)

WATCH_PIDS=()
for p in "${PAIRS[@]}"; do
	read -r name from proto ip port want <<<"$p"
	WATCH_PIDS+=("$(LAB_PROBE_TIMEOUT=0.5 lab_probe_watch "$from" "$proto" "$ip" "$port" "$SCN_DIR/w.$name" 0.02)")
done
samples() { [[ -f $1 ]] && grep -c . "$1" || echo 0; }
enough_samples() { # N: every watch has at least N samples
	local p name
	for p in "${PAIRS[@]}"; do
		read -r name _ <<<"$p"
		(($(samples "$SCN_DIR/w.$name") >= $1)) || return 1
	done
}
lab_check "watch probes running" scn_poll 5 enough_samples 3

# Each down-window lasts until every watch took 10 more samples (no fixed sleep).
WINDOWS=()
restart() { # SIGNAL NODE...
	local sig=$1 n base t_down t_up
	shift
	for n in "$@"; do
		scn_agent_stop "$n" "$sig" || return 1
	done
	t_down=$(scn_now)
	base=0
	for p in "${PAIRS[@]}"; do
		read -r name _ <<<"$p"
		base=$(( $(samples "$SCN_DIR/w.$name") > base ? $(samples "$SCN_DIR/w.$name") : base ))
	done
	_more() {
		local p name
		for p in "${PAIRS[@]}"; do
			read -r name _ <<<"$p"
			(($(samples "$SCN_DIR/w.$name") >= $1)) || return 1
		done
	}
	scn_poll 10 _more $((base + 10)) || return 1
	for n in "$@"; do
		scn_agent_start "$n" "$MAN" || return 1
	done
	for n in "$@"; do
		scn_agent_ready "$n" || return 1
	done
	t_up=$(scn_now)
	WINDOWS+=("$t_down $t_up")
	# and a few samples with the new agent in place
	scn_poll 10 _more $((base + 20))
}
lab_check "SIGTERM + restart netpold on node2 (dbpod's node)" restart TERM node2
lab_check "SIGTERM + restart netpold on node1" restart TERM node1
lab_check "SIGKILL + restart netpold on node2" restart KILL node2
lab_check "SIGKILL + restart netpold on node1" restart KILL node1
lab_check "SIGTERM + restart netpold on both nodes" restart TERM node1 node2
lab_check "SIGKILL + restart netpold on both nodes" restart KILL node1 node2

kill "${WATCH_PIDS[@]}" 2>/dev/null
for pid in "${WATCH_PIDS[@]}"; do
	scn_poll 2 eval "! _lab_proc_alive $pid"
done

in_windows() { # FILE: samples taken while an agent was down, per window "n,n,.."
	local w a b out=''
	for w in "${WINDOWS[@]}"; do
		read -r a b <<<"$w"
		out+=$(awk -v a="$a" -v b="$b" '$1 >= a && $1 <= b { n++ } END { printf "%d,", n }' "$1")
	done
	echo "${out%,}"
}
for p in "${PAIRS[@]}"; do
	read -r name from proto ip port want <<<"$p"
	f=$SCN_DIR/w.$name
	n=$(samples "$f")
	nok=$(grep -c ' ok' "$f")
	nfail=$((n - nok))
	win=$(in_windows "$f")
	if [[ $want == fail ]]; then
		lab_check "$name ($from -> $ip $port/$proto): 0 ok of $n samples (per down-window: $win)" \
			eval "((nok == 0 && n >= 50))"
		if ((nok)); then
			grep ' ok' "$f" | head -5 | sed 's/^/     /'
		fi
	else
		lab_check "$name ($from -> $ip $port/$proto): all $n samples ok, $nfail failed (per down-window: $win)" \
			eval "((nfail == 0 && n >= 50))"
		if ((nfail)); then
			grep -v ' ok' "$f" | head -5 | sed 's/^/     /'
		fi
	fi
	lab_check "$name: samples in every down-window" eval '[[ ,$win, != *,0,* ]]'
done

STATE_AFTER=$(scn_npd_state node1; echo "--"; scn_npd_state node2)
lab_check "same chains, rules and sets after 6 restarts (stable names)" \
	eval '[[ $STATE_BEFORE == "$STATE_AFTER" ]]'
if [[ $STATE_BEFORE != "$STATE_AFTER" ]]; then
	diff <(echo "$STATE_BEFORE") <(echo "$STATE_AFTER") | head -20
fi
lab_check_matrix "$SCN_DIR/pairs.exp"
lab_check "netpold stops and cleans up" scn_agents_down
lab_check "nothing of netpold left" scn_no_npd_left node1 node2
echo "time: total $(scn_since "$T0")s"
lab_summary
