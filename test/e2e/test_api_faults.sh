#!/usr/bin/env bash
# test_api_faults.sh: the faults a real API server shows, each followed by a change
# made through the API and the right verdicts on real packets.
#
# Lab + test API server as in test_api_seeds.sh (AKS frontend/backend/db loaded
# through the API, netpold --kubeconfig on node1 and node2). Then:
#   1. close-watches; relabel apppod app=api: enforced, watches re-opened.
#   2. the API gone (stop-listening) while apppod is relabelled back AND db-policy
#      is DELETED, then compact and start-listening: the resume from the old
#      resourceVersion gets 410, netpold relists, the deleted policy's effect is gone.
#   3. compact + close-watches (no gap): relist again; db-policy created: enforced.
#   4. fail 5 500 + close-watches; a namespace label change: enforced.
#   5. fail 3 429 Retry-After 1 + close-watches; the label back: enforced.
#   6. a malformed watch line: the stream goes on, the next change is enforced and
#      the bad line is counted.
#   7. the API server down 15 s (stop-listening 15) while toolpod -> dbpod:80
#      (blocked) is probed every 20 ms and toolpod is relabelled app=api through
#      the control channel during the outage: zero ok lines while the API is down,
#      the change is enforced after it returns.
#   8. a pod deleted and its IP reused by a new pod with other labels: the new
#      pod's verdict applies; a finished pod keeping its IP next to a new running
#      pod with that IP, then deleted: the running pod's verdict stays.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

# Short server-side watch timeouts would hide the faults: keep the default.
api_setup_aks
lab_check "six watches open" api_wait_watchers 6
scn_aks_writeup "$SCN_DIR/aks.writeup.exp"
scn_matrix_eventually "$SCN_DIR/aks.writeup.exp" 15 || api_dump_on_failure

total() { api_metrics_total "$@" || echo -1; }

echo "== 1. close-watches"
r0=$(total netpold_watch_restarts_total)
lab_check "fault close-watches" api_fault close-watches
lab_check "label apppod app=api" api_ctl label pod frontend apppod app=api
api_expect "after close-watches: apppod is app=api" 20 <<-EOF
	frontend.apppod backend.dbpod 80 tcp ok
	frontend.apppod frontend.apipod 80 tcp fail
	frontend.toolpod backend.dbpod 80 tcp fail
EOF
lab_check "watches re-opened (6)" api_wait_watchers 6
r1=$(total netpold_watch_restarts_total)
lab_check "netpold counted watch restarts ($r0 -> $r1)" api_gt "$r1" "$r0"

echo "== 2. API gone; relabel + DELETE in the gap; compact; back: 410 -> relist"
l0=$(total netpold_relists_total)
lab_check "fault stop-listening" api_fault stop-listening
lab_check "label apppod app=app (in the gap)" api_ctl label pod frontend apppod app=app
lab_check "delete db-policy (in the gap)" api_ctl delete netpol backend db-policy
lab_check "fault compact" api_fault compact
lab_check "fault start-listening" api_fault start-listening
api_expect "after the relist: db-policy's effect gone, apppod app=app" 40 <<-EOF
	$(api_db_probes ok)
	frontend.apppod backend.dbpod 80 tcp fail
	frontend.apppod frontend.apipod 80 tcp ok
EOF
lab_check "watches re-opened (6)" api_wait_watchers 6 30
l1=$(total netpold_relists_total)
lab_check "netpold relisted after 410 ($l0 -> $l1, want +2 at least: both agents)" \
	api_ge "$l1" "$(awk -v a="$l0" 'BEGIN { print a + 2 }')"

echo "== 3. compact + close-watches (no gap), then create db-policy"
l0=$l1
lab_check "fault compact" api_fault compact
lab_check "fault close-watches" api_fault close-watches
lab_check "create db-policy" api_create aks-db-policy.json
api_expect "db-policy enforced again" 30 <<-EOF
	$(api_db_probes fail)
EOF
lab_check "watches re-opened (6)" api_wait_watchers 6 30

echo "== 4. fail 5 x 500"
e0=$(total netpold_api_errors_total 'code="500"')
lab_check "fault fail 5 500" api_fault fail 5 500
lab_check "fault close-watches" api_fault close-watches
lab_check "label ns frontend name=elsewhere" api_ctl label ns frontend name=elsewhere
api_expect "after 500s: apipod's namespace no longer matches db-policy" 40 <<-EOF
	frontend.apipod backend.dbpod 80 tcp fail
	frontend.apipod kube-system.coredns 53 udp ok
EOF
lab_check "watches re-opened (6)" api_wait_watchers 6 40
e1=$(total netpold_api_errors_total 'code="500"')
lab_check "netpold counted the 500s ($e0 -> $e1, 5 injected)" \
	api_ge "$e1" "$(awk -v a="$e0" 'BEGIN { print a + 5 }')"

echo "== 5. fail 3 x 429 Retry-After 1"
e0=$(total netpold_api_errors_total 'code="429"')
lab_check "fault fail 3 429 1" api_fault fail 3 429 1
lab_check "fault close-watches" api_fault close-watches
lab_check "label ns frontend name=frontend" api_ctl label ns frontend name=frontend
api_expect "after 429s: apipod reaches dbpod again" 40 <<-EOF
	frontend.apipod backend.dbpod 80 tcp ok
	frontend.toolpod backend.dbpod 80 tcp fail
EOF
lab_check "watches re-opened (6)" api_wait_watchers 6 40
e1=$(total netpold_api_errors_total 'code="429"')
lab_check "netpold counted the 429s ($e0 -> $e1, 3 injected)" \
	api_ge "$e1" "$(awk -v a="$e0" 'BEGIN { print a + 3 }')"

echo "== 6. a malformed watch line"
d0=$(total netpold_decode_errors_total)
a0=$(total netpold_api_errors_total)
lab_check "fault malformed" api_fault malformed
lab_check "delete db-policy" api_ctl delete netpol backend db-policy
api_expect "after the malformed line: db-policy's deletion enforced" 20 <<-EOF
	$(api_db_probes ok)
EOF
lab_check "create db-policy" api_create aks-db-policy.json
api_expect "and its re-creation" 20 <<-EOF
	$(api_db_probes fail)
EOF
_bad_line_counted() {
	local d a
	d=$(total netpold_decode_errors_total)
	a=$(total netpold_api_errors_total)
	api_gt "$d" "$d0" || api_gt "$a" "$a0"
}
lab_check "the malformed line is counted (decode or api errors)" scn_poll 15 _bad_line_counted
echo "     decode errors $d0 -> $(total netpold_decode_errors_total), api errors $a0 -> $(total netpold_api_errors_total)"
for n in node1 node2; do
	lab_check "netpold on $n alive after the malformed line" _lab_proc_alive "$(scn_agent_pid "$n")"
done
lab_check "watches open (6)" api_wait_watchers 6 30

echo "== 7. the API server down 15 s; a change made meanwhile; blocked pair probed every 20 ms"
W=$SCN_DIR/watch-outage
db=$(lab_pod_ip backend.dbpod)
wpid=$(lab_probe_watch frontend.toolpod tcp "$db" 80 "$W" 0.02)
lab_check "the watch probe runs" api_watch_wait "$W" 20 10
t_down=$(scn_now)
lab_check "fault stop-listening 15" api_fault stop-listening 15
_api_down() { [[ $(api_ctl stats listening) == [Ff]alse ]]; }
lab_check "API listener closed, control channel up" _api_down
lab_check "label toolpod app=api while the API is down" api_ctl label pod frontend toolpod app=api
t_up=$(awk -v t="$t_down" 'BEGIN { printf "%.6f", t + 15 }')
_seen_ok() { api_watch_first "$W" ok "$t_down" >/dev/null; }
scn_poll 60 _seen_ok
kill "$wpid" 2>/dev/null
t_ok=$(api_watch_first "$W" ok "$t_down") || t_ok=
n_down=$(api_watch_count "$W" fail "$t_down" "$t_up")
ok_down=$(api_watch_count "$W" ok 0 "$t_up")
echo "     probes while down: $n_down fail, $ok_down ok; first ok $(awk -v a="${t_ok:-0}" -v b="$t_up" 'BEGIN { printf "%.2f", a - b }') s after the listener returned"
lab_check "zero ok lines before the API returned ($ok_down)" test "$ok_down" = 0
lab_check "the pair was probed during the outage ($n_down probes >= 300)" test "$n_down" -ge 300
lab_check "the change made during the outage is enforced after it" test -n "$t_ok"
api_expect "after the outage (both agents back; backoff up to 30 s)" 45 <<-EOF
	frontend.toolpod backend.dbpod 80 tcp ok
	frontend.toolpod kube-system.coredns 80 tcp fail
	vm frontend.toolpod 80 tcp ok
EOF
lab_check "watches re-opened (6)" api_wait_watchers 6 40
lab_check "label toolpod app=tools" api_ctl label pod frontend toolpod app=tools
api_expect "toolpod is app=tools again" 20 <<-EOF
	frontend.toolpod backend.dbpod 80 tcp fail
	frontend.toolpod kube-system.coredns 80 tcp ok
EOF

echo "== 8. a pod deleted, its IP reused by a pod with other labels"
ip=$(lab_pod_ip frontend.apipod)
api_expect "before: apipod ($ip) is app=api" 10 <<-EOF
	frontend.apppod $ip 80 tcp ok
	frontend.apipod backend.dbpod 80 tcp ok
	frontend.apipod kube-system.coredns 80 tcp fail
EOF
lab_check "delete pod frontend/apipod (API and lab)" api_pod_del frontend apipod
lab_check "pod frontend/newpod app=tools at $ip on node1" api_pod frontend newpod node1 "$ip" app=tools
api_expect "the IP follows newpod (app=tools)" 20 <<-EOF
	frontend.newpod backend.dbpod 80 tcp fail
	frontend.newpod kube-system.coredns 80 tcp ok
	frontend.newpod frontend.apppod 80 tcp ok
	frontend.apppod $ip 80 tcp fail
	vm $ip 80 tcp ok
EOF
echo "   a finished pod keeps the IP while a new running pod (app=api) takes it"
fin=$SCN_DIR/newpod-finished.json
lab_check "newpod set to phase Succeeded (keeps its podIP)" \
	bash -c "ip netns exec '$(lab_ns api)' '$LAB_PYTHON' '$API_CLIENT' --state-dir '$API_STATE' get pod frontend newpod |
		'$LAB_PYTHON' -c 'import json, sys; o = json.load(sys.stdin); o[\"status\"][\"phase\"] = \"Succeeded\"; print(json.dumps(o))' >'$fin'"
lab_check "apply it" api_ctl apply "$fin"
lab_pod_del frontend.newpod
lab_check "pod frontend/apipod2 app=api at $ip on node1" api_pod frontend apipod2 node1 "$ip" app=api
api_expect "the running pod's labels apply" 20 <<-EOF
	frontend.apppod $ip 80 tcp ok
	frontend.apipod2 backend.dbpod 80 tcp ok
	frontend.apipod2 kube-system.coredns 80 tcp fail
EOF
# A finished pod is no peer, so the store may not count it: watch the DELETED events.
DEL='resource="pods",type="DELETED"'
del1=$(api_metric_sum node1 netpold_watch_events_total "$DEL")
del2=$(api_metric_sum node2 netpold_watch_events_total "$DEL")
lab_check "delete the finished pod frontend/newpod" api_ctl delete pod frontend newpod
# The verdict must NOT change: wait until both agents saw the deletion and synced.
_saw_delete() {
	api_gt "$(api_metric_sum node1 netpold_watch_events_total "$DEL")" "$del1" &&
		api_gt "$(api_metric_sum node2 netpold_watch_events_total "$DEL")" "$del2"
}
lab_check "both agents saw the deletion" scn_poll 20 _saw_delete
t_seen=$(scn_now)
_synced() {
	local n
	for n in node1 node2; do
		api_ge "$(api_metric_sum "$n" netpold_last_sync_timestamp_seconds)" "$t_seen" || return 1
	done
}
scn_poll 5 _synced || echo "     (no sync after the deletion within 5 s: nothing to apply?)"
api_expect "the finished pod's deletion leaves apipod2's verdict" 5 <<-EOF
	frontend.apppod $ip 80 tcp ok
	frontend.apipod2 backend.dbpod 80 tcp ok
	frontend.apipod2 kube-system.coredns 80 tcp fail
EOF

api_finish
