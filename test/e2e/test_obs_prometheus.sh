#!/usr/bin/env bash
# test_obs_prometheus.sh: a real Prometheus scrapes netpold. The AKS example on the 2-node
# lab; Debian's prometheus runs inside node2's namespace (its own loopback, so nothing in
# the root namespace changes) scraping node2's netpold every second. After at least two
# scrapes, 20 allowed probes apipod -> dbpod:80 and 20 denied probes toolpod -> dbpod:80;
# then Prometheus's HTTP query API must show
# netpold_policy_rule_packets_total{policy="db-policy"} and
# netpold_pod_denied_packets_total{pod="dbpod",direction="ingress"} risen by >= 20 each,
# and increase() over the window agree. Prometheus and its data go with the lab.
# Needs root and prometheus (scripts/deps). Prints "N passed, M failed".
# shellcheck disable=SC2016 # eval'd checks expand when run
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_need_bins prometheus
scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
lab_check "netpold ready on node1 and node2" scn_agents_up "$MAN" --counters-interval 0.5s

PROM_PORT=9090
PROM_DIR=$SCN_DIR/prometheus
mkdir -p "$PROM_DIR/data"
cat >"$PROM_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: netpold
    static_configs:
      - targets: ['127.0.0.1:$SCN_METRICS_PORT']
EOF
PROM_PID=$(lab_spawn node2 "$PROM_DIR/prometheus.log" prometheus \
	--config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn)
prom_down() {
	if [[ -n ${PROM_PID:-} ]]; then
		kill "$PROM_PID" 2>/dev/null
		for _ in $(seq 50); do _lab_proc_alive "$PROM_PID" || break; sleep 0.1; done
		kill -KILL "$PROM_PID" 2>/dev/null
		PROM_PID=
	fi
}

# promq EXPR: the value of an instant query with exactly one result (else fails).
promq() {
	lab_exec node2 curl -s -m 3 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
res = r.get("data", {}).get("result", [])
if r.get("status") != "success" or len(res) != 1:
    sys.exit(1)
print(res[0]["value"][1])'
}
prom_ready() { lab_exec node2 curl -sf -m 1 "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null; }
# at_least EXPR N: the query's value is >= N.
at_least() {
	local v
	v=$(promq "$1") && awk -v v="$v" -v n="$2" 'BEGIN { exit !(v >= n) }'
}

t=$(scn_now)
lab_check "prometheus ready in node2's namespace" scn_poll 20 prom_ready
lab_check "prometheus scraped netpold at least twice" \
	scn_poll 15 at_least 'count_over_time(netpold_uptime_seconds{job="netpold"}[5m])' 2
lab_check "the target is up" eval '[[ $(promq "up{job=\"netpold\"}") == 1 ]]'
echo "     (prometheus up and scraping after $(scn_since "$t")s)"

ALLOW='netpold_policy_rule_packets_total{policy="db-policy",direction="ingress",rule="0"}'
DENY='netpold_pod_denied_packets_total{pod="dbpod",direction="ingress"}'
a0=$(promq "$ALLOW") || a0=absent
d0=$(promq "$DENY") || d0=absent
lab_check "both series in prometheus before the probes (allowed $a0, denied $d0)" \
	eval '[[ $a0 != absent && $d0 != absent ]]'

probes() { # N FROM IP PORT WANT
	local i bad=0
	for ((i = 0; i < $1; i++)); do
		[[ $(lab_probe "$2" "$3" "$4" tcp) == "$5" ]] || bad=$((bad + 1))
	done
	return $bad
}
t_probe=$(date +%s)
lab_check "20 allowed probes apipod -> dbpod:80" probes 20 frontend.apipod 10.244.2.20 80 ok
lab_check "20 denied probes toolpod -> dbpod:80" probes 20 frontend.toolpod 10.244.2.20 80 fail

if [[ $a0 != absent && $d0 != absent ]]; then
	lab_check "prometheus: $ALLOW rose by >= 20" scn_poll 15 at_least "$ALLOW" $((${a0%.*} + 20))
	lab_check "prometheus: $DENY rose by >= 20" scn_poll 15 at_least "$DENY" $((${d0%.*} + 20))
	echo "     allowed $(promq "$ALLOW"), denied $(promq "$DENY")"
	win=$(($(date +%s) - t_probe + 5))
	# increase() extrapolates to the window's edges, so it reads a little above 20.
	lab_check "prometheus: increase() of the admitting rule over ${win}s >= 19" \
		at_least "increase(${ALLOW}[${win}s])" 19
	lab_check "prometheus: increase() of dbpod's denials over ${win}s >= 19" \
		at_least "increase(${DENY}[${win}s])" 19
fi
lab_check "sum by policy: db-policy is the only backend policy" \
	eval '[[ $(promq "count(sum by (policy) (netpold_policy_rule_packets_total{namespace=\"backend\"}))") == 1 ]]'

prom_down
lab_check "netpold stops and cleans up on both nodes" scn_agents_down
scn_pods_down "$TABLE"
echo "     (total $(scn_since "$T0")s)"
lab_summary
