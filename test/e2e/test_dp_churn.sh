#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_churn.sh: pod churn is ipset membership only. The AKS example runs
# on the 2-node lab with netpold on both nodes reading a manifest directory.
# Pods that match existing selectors are added, relabelled and deleted on
# node1 by writing manifest files into that directory (atomic rename) and
# creating/deleting the lab pods; node2 (dbpod's and apppod's node, whose
# rules select those pods as peers) observes. After each step:
#   - node2's npd- sets follow (polled with a deadline; time reported),
#   - the full matrix (every pod and the vm to every pod, every port) equals
#     `netpolctl simulate` on the directory, with real packets,
#   - node2's netpold_table_commits_total (ipv4 and ipv6) has not moved, while
#     its netpold_set_updates_total has (or has not, for a pod no peer
#     selector of node2 matches).
# Also: a deleted pod's IP reused by a new pod with other labels gets the new
# pod's verdict (api2 -> dbpod allowed; tool2 on the same IP -> denied).
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
scn_setup_agents "netpold ready on node1 and node2"
# Every lab pod serves the same ports, so new pods get them too.
mapfile -t PORTNUMS < <(scn_ports "$TABLE" | cut -d/ -f1 | sort -nu)
API=10.244.1.10

# pod_file NS NAME KEY=VAL NODE IP: write manifests/churn-NS-NAME.yaml atomically.
pod_file() {
	local ns=$1 name=$2 label=$3 node=$4 ip=$5 f
	f=$MAN/churn-$ns-$name.yaml
	cat >"$f.tmp" <<-EOF
	apiVersion: v1
	kind: Pod
	metadata:
	  name: $name
	  namespace: $ns
	  labels:
	    ${label%%=*}: ${label#*=}
	spec:
	  nodeName: $node
	  containers:
	  - name: main
	    image: nginx
	    ports:
	    - name: http
	      containerPort: 80
	status:
	  phase: Running
	  podIP: $ip
	  podIPs:
	  - ip: $ip
	EOF
	mv "$f.tmp" "$f"
}

commits() { # NODE: "v4 v6"
	echo "$(scn_metric "$1" 'netpold_table_commits_total{family="ipv4"}') $(scn_metric "$1" 'netpold_table_commits_total{family="ipv6"}')"
}
setupd() { scn_metric "$1" netpold_set_updates_total; }
# node2's sets that hold apipod's address (the app=api peer sets)
mapfile -t APISETS < <(for s in $(lab_exec node2 ipset list -n | grep '^npd-'); do
	lab_exec node2 ipset list "$s" | grep -qx "$API" && echo "$s"
done)
lab_check "node2 has app=api peer sets (${APISETS[*]})" eval '((${#APISETS[@]} >= 1))'
in_api_sets() { # IP: in all of them
	local s
	for s in "${APISETS[@]}"; do
		lab_exec node2 ipset test "$s" "$1" 2>/dev/null || return 1
	done
}
in_no_api_set() { # IP: in none of them
	local s
	for s in "${APISETS[@]}"; do
		if lab_exec node2 ipset test "$s" "$1" 2>/dev/null; then
			return 1
		fi
	done
}

# step DESC WAIT_CMD...: after a manifest change, wait for node2's kernel
# (WAIT_CMD), then check the full matrix against simulate and node2's
# counters against the values before the change.
C0=$(commits node2)
U0=$(setupd node2)
N1C0=$(commits node1)
step() { # DESC T0 moved|same WAIT_CMD...
	local desc=$1 t0=$2 sets=$3 u
	shift 3
	if scn_poll 5 "$@"; then
		lab_check "$desc: node2's sets follow in $(scn_since "$t0")s" true
	else
		lab_check "$desc: node2's sets follow within 5s" false
		scn_dump node2
	fi
	scn_pods_table "$MAN" >"$TABLE"
	if lab_check "$desc: simulate the directory" scn_expect "$MAN" "$TABLE" 4 "$SCN_DIR/step.exp"; then
		scn_matrix_eventually "$SCN_DIR/step.exp" 5 || scn_dump node2
	fi
	lab_check "$desc: node2 table commits unchanged (v4 v6: $C0 -> $(commits node2))" \
		eval '[[ $(commits node2) == "$C0" ]]'
	u=$(setupd node2)
	if [[ $sets == moved ]]; then
		lab_check "$desc: node2 set updates moved ($U0 -> $u)" eval "awk -v a=$U0 -v b=$u 'BEGIN { exit !(b > a) }'"
	else
		lab_check "$desc: node2 set updates unchanged, no peer set holds it ($U0 -> $u)" eval '[[ $u == "$U0" ]]'
	fi
	U0=$u
}

# 1. a new app=api pod in frontend on node1: dbpod must accept it, apppod may reach it.
lab_pod frontend.api2 node1 10.244.1.30 "${PORTNUMS[@]}"
t=$(scn_now)
pod_file frontend api2 app=api node1 10.244.1.30
step "add frontend/api2 (app=api, node1, 10.244.1.30)" "$t" moved in_api_sets 10.244.1.30
lab_check "api2 -> dbpod 80/tcp allowed, apppod -> api2 allowed" \
	eval 'lab_probe frontend.api2 10.244.2.20 80 tcp >/dev/null && lab_probe frontend.apppod 10.244.1.30 80 tcp >/dev/null'

# 2. a pod matching no peer selector: node2's api sets must not take it.
lab_pod frontend.plain2 node1 10.244.1.33 "${PORTNUMS[@]}"
t=$(scn_now)
pod_file frontend plain2 app=plain node1 10.244.1.33
# nothing to wait for in the api sets; wait for node2 to have loaded it
loaded() { [[ $(scn_metric node2 'netpold_store_objects{kind="Pod"}') == 7 ]]; }
step "add frontend/plain2 (app=plain)" "$t" same loaded
lab_check "plain2 is in no app=api set" in_no_api_set 10.244.1.33

# 3. relabel plain2 to app=api: it joins the sets.
t=$(scn_now)
pod_file frontend plain2 app=api node1 10.244.1.33
step "relabel frontend/plain2 app=plain -> app=api" "$t" moved in_api_sets 10.244.1.33

# 4. delete api2: its address leaves the sets.
t=$(scn_now)
rm -f "$MAN/churn-frontend-api2.yaml"
step "delete frontend/api2" "$t" moved in_no_api_set 10.244.1.30
lab_pod_del frontend.api2

# 5. reuse api2's address for tool2 (app=tools): it gets tool2's verdicts.
lab_pod frontend.tool2 node1 10.244.1.30 "${PORTNUMS[@]}"
t=$(scn_now)
pod_file frontend tool2 app=tools node1 10.244.1.30
loaded() { [[ $(scn_metric node2 'netpold_store_objects{kind="Pod"}') == 7 ]] && in_no_api_set 10.244.1.30; }
# tool2 is in no api set; the step is done when node2 stored it
step "re-create 10.244.1.30 as frontend/tool2 (app=tools)" "$t" same loaded
lab_check "tool2 (api2's old IP) -> dbpod 80/tcp denied" \
	eval '! lab_probe frontend.tool2 10.244.2.20 80 tcp >/dev/null'
lab_check "apppod -> tool2 denied (apppod may only reach app=api)" \
	eval '! lab_probe frontend.apppod 10.244.1.30 80 tcp >/dev/null'

# 6. same IP, relabel in one rename: tool2 becomes app=api again.
t=$(scn_now)
pod_file frontend tool2 app=api node1 10.244.1.30
step "relabel frontend/tool2 app=tools -> app=api (same IP)" "$t" moved in_api_sets 10.244.1.30
lab_check "tool2 -> dbpod 80/tcp allowed now" eval 'lab_probe frontend.tool2 10.244.2.20 80 tcp >/dev/null'

echo "     node1 (where the pods churned, local isolated pods need chains): commits $N1C0 -> $(commits node1)"
lab_check "netpold stops and cleans up" scn_agents_down
lab_check "nothing of netpold left" scn_no_npd_left node1 node2
echo "time: total $(scn_since "$T0")s"
lab_summary
