#!/usr/bin/env bash
# test_api_throttle.sh: an API server shedding load with 429 + Retry-After must cost
# netpold about what it asks, not the exponential backoff's 30 s cap.
#
# Lab + test API server as in test_api_faults.sh (AKS objects through the API,
# netpold --kubeconfig on node1 and node2: six watches). Three rounds of:
#   fail 20 x 429 Retry-After: 1 (the next 20 requests, whichever resource), close
#   every watch, then relabel toolpod through the control channel (app=api allows
#   toolpod -> dbpod:80, app=tools denies it again); a probe every 50 ms gives the
#   time from the change to its enforcement on real packets.
# The twenty throttles spread over the six re-opening streams, each waiting about
# a second between tries: the change must be enforced within 5 s, and every 429 is
# counted. Prints each round's convergence time. Needs root.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

api_setup_aks_db

total() { api_metrics_total "$@" || echo -1; }
injected() { api_ctl stats injected_failures 2>/dev/null || echo -1; }
_all_answered() { api_ge "$(injected)" "$1"; }

db=$(lab_pod_ip backend.dbpod)
W=$SCN_DIR/watch-throttle
wpid=$(lab_probe_watch frontend.toolpod tcp "$db" 80 "$W" 0.05)
lab_check "the watch probe runs" api_watch_wait "$W" 10 10
times=()
for round in 1 2 3; do
	if ((round % 2)); then
		label=app=api want=ok
	else
		label=app=tools want=fail
	fi
	echo "== round $round: 20 x 429 Retry-After 1, close-watches, toolpod $label"
	e0=$(total netpold_api_errors_total 'code="429"')
	i0=$(injected)
	lab_check "fault fail 20 429 1" api_fault fail 20 429 1
	tc=$(scn_now)
	lab_check "fault close-watches" api_fault close-watches
	t0=$(scn_now)
	lab_check "label toolpod $label" api_ctl label pod frontend toolpod "$label"
	_seen() { api_watch_first "$W" "$want" "$t0" >/dev/null; }
	scn_poll 60 _seen
	if t_ok=$(api_watch_first "$W" "$want" "$t0"); then
		dt=$(awk -v a="$t0" -v b="$t_ok" 'BEGIN { printf "%.2f", b - a }')
		dc=$(awk -v a="$tc" -v b="$t_ok" 'BEGIN { printf "%.2f", b - a }')
	else
		dt=inf dc=inf
	fi
	times+=("$dt")
	echo "     convergence: $dt s after the change ($dc s after the watches closed)"
	lab_check "round $round: enforced within 5 s ($dt s)" \
		awk -v d="$dt" 'BEGIN { exit !(d != "inf" && d + 0 <= 5) }'
	lab_check "round $round: all 20 throttles answered" scn_poll 15 _all_answered $((i0 + 20))
	lab_check "round $round: watches re-opened (6)" api_wait_watchers 6 30
	e1=$(total netpold_api_errors_total 'code="429"')
	lab_check "round $round: netpold counted the 429s ($e0 -> $e1, 20 injected)" \
		api_ge "$e1" "$(awk -v a="$e0" 'BEGIN { print a + 20 }')"
done
kill "$wpid" 2>/dev/null
echo "     convergence times: ${times[*]} s"

api_finish
