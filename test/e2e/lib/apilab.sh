# shellcheck shell=bash
# apilab.sh: the e2e lab (lab.sh, scenario.sh) with the test Kubernetes API server
# (test/apiserver/npd_apiserver.py) inside it, and netpold on the lab nodes reading
# the API instead of manifest files.
#
#   . test/e2e/lib/apilab.sh
#   api_init                          # scn_init (node1, node2, underlay, vm) + host "api"
#                                     # at 192.168.254.200 running the API server
#   api_load aks-objects.json ...     # create objects through the control channel and a
#                                     # lab pod for every Pod with an IP (its node, its IP)
#   api_server_stop; api_server_start --load FILE   # restart the server on other objects
#   api_agents_up                     # netpold --kubeconfig on node1 and node2, /readyz
#   api_setup_aks_db                  # api_setup_aks, six watches, db-policy holding
#   api_ctl label pod frontend apppod app=api     # any client.py command, run in "api"
#   api_expect NAME 20 <<EOF          # "FROM TO PORT PROTO ok|fail", TO a lab pod or an IP;
#   frontend.apppod backend.dbpod 80 tcp ok      # polled until it holds (or TIMEOUT_S),
#   EOF                               # then counted line by line (lab_check_matrix)
#
# The API server listens on 192.168.254.200:6443 (certificate SAN and kubeconfig
# server URL match); the nodes reach it over the underlay. Its control port
# (6444) stays up during the stop-listening fault. Everything lives in lab
# namespaces and in $LAB_STATE, so lab_cleanup removes it all. JSON objects
# are read from test/e2e/api/ unless a path is given.
#
# Functions print errors as "apilab: ..." and return non-zero on failure.

if [[ -n ${_APILAB_SH_LOADED:-} ]]; then
	return 0
fi
_APILAB_SH_LOADED=1

APILAB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scenario.sh
. "$APILAB_LIBDIR/scenario.sh"

API_IP=${API_IP:-192.168.254.200}
API_PORT=${API_PORT:-6443}
API_CONTROL_PORT=${API_CONTROL_PORT:-6444}
API_JSON_DIR=${API_JSON_DIR:-$NPD_SRC_DIR/test/e2e/api}
API_SERVER=$NPD_SRC_DIR/test/apiserver/npd_apiserver.py
API_CLIENT=$NPD_SRC_DIR/test/apiserver/client.py
# Every lab pod serves these (TCP and UDP), so a denial is the policy's.
API_POD_PORTS=${API_POD_PORTS:-80 53 443}
API_STATE=${API_STATE:-}
# How long api_server_start waits for the server (a large --load takes minutes).
API_READY_S=${API_READY_S:-30}
API_PID=

_api_err() { echo "apilab: $*" >&2; }

# api_step DESC CMD...: lab_check that also returns CMD's status (lab_check
# itself always succeeds), for "stop here if this failed".
api_step() {
	local desc=$1
	shift
	if "$@"; then
		lab_check "$desc" true
	else
		lab_check "$desc" false
		return 1
	fi
}

# api_init [SERVER_ARGS...]: the scenario lab plus the API host and server.
api_init() {
	scn_init || return 1
	lab_vm api "$API_IP" || return 1
	API_STATE=$LAB_STATE/api
	mkdir -p "$API_STATE" || return 1
	api_server_start "$@"
}

# api_aks_up: api_init, then the AKS frontend/backend/db objects (seed 000) through the
# API and their lab pods, each a counted step; returns non-zero at the first failure.
api_aks_up() {
	api_step "lab: node1, node2, vm and the API server at $API_IP" api_init &&
		api_step "AKS objects created through the API, lab pods up" \
			api_load aks-objects.json aks-db-policy.json aks-api-policy.json aks-app-policy.json
}

# api_server_start [ARGS...]: run npd_apiserver in the "api" namespace (log
# $LAB_STATE/logs/apiserver.log) and wait for its ready file.
api_server_start() {
	local i
	rm -f "$API_STATE/ready"
	API_PID=$(lab_spawn api "$LAB_STATE/logs/apiserver.log" "$LAB_PYTHON" "$API_SERVER" \
		--state-dir "$API_STATE" --listen "$API_IP" --port "$API_PORT" \
		--control-port "$API_CONTROL_PORT" --bookmark-interval 1 "$@") || return 1
	for ((i = 0; i < API_READY_S * 20; i++)); do
		if [[ -e $API_STATE/ready ]]; then
			return 0
		fi
		if ! _lab_proc_alive "$API_PID"; then
			break
		fi
		sleep 0.05
	done
	_api_err "API server not ready; log:"
	tail -n 10 "$LAB_STATE/logs/apiserver.log" >&2
	return 1
}

# api_server_stop: SIGTERM the API server started by api_server_start and wait (10 s)
# until it is gone; the state directory (certificates, token) stays for a restart.
api_server_stop() {
	local i
	[[ -n $API_PID ]] || return 0
	kill "$API_PID" 2>/dev/null
	for ((i = 0; i < 500; i++)); do
		if ! _lab_proc_alive "$API_PID"; then
			API_PID=
			return 0
		fi
		sleep 0.02
	done
	_api_err "API server (pid $API_PID) did not exit on SIGTERM"
	return 1
}

# api_ctl CMD ARGS...: client.py (the control channel) inside the "api" namespace.
api_ctl() {
	lab_exec api "$LAB_PYTHON" "$API_CLIENT" --state-dir "$API_STATE" "$@"
}

# api_fault NAME [ARGS...]: client.py fault, its JSON answer in the server log.
api_fault() {
	api_ctl fault "$@" >>"$LAB_STATE/logs/apiserver.log"
}

# api_file NAME: a path under $API_JSON_DIR unless NAME holds a slash.
api_file() {
	if [[ $1 == */* ]]; then
		printf '%s\n' "$1"
	else
		printf '%s\n' "$API_JSON_DIR/$1"
	fi
}

# _api_files FILE...: the api_file path of each, in the array _API_FILES.
_api_files() {
	local f
	_API_FILES=()
	for f in "$@"; do
		_API_FILES+=("$(api_file "$f")")
	done
}

# api_create FILE...: create the objects of the files (in order) through the API.
api_create() {
	_api_files "$@"
	api_ctl create "${_API_FILES[@]}"
}

# api_pods_of FILE...: "NS NAME NODE IP4" for every Pod with an IPv4 address.
api_pods_of() {
	_api_files "$@"
	"$LAB_PYTHON" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import client
for f in sys.argv[2:]:
    for o in client.load_objects(open(f).read()):
        if o.get("kind") != "Pod" or (o.get("spec") or {}).get("hostNetwork"):
            continue
        st = o.get("status") or {}
        ips = [x.get("ip") for x in st.get("podIPs") or []] or [st.get("podIP")]
        ip4 = next((i for i in ips if i and ":" not in i), None)
        if ip4:
            m = o["metadata"]
            print(m.get("namespace", "default"), m["name"], o["spec"].get("nodeName", "-"), ip4)
' "$(dirname "$API_CLIENT")" "${_API_FILES[@]}"
}

# api_load FILE...: api_create, then api_lab_pods.
api_load() {
	api_create "$@" && api_lab_pods "$@"
}

# api_lab_pods FILE...: a lab pod "NS.NAME" for every pod of the files on its node
# with its IP, serving $API_POD_PORTS (the objects themselves are not created).
api_lab_pods() {
	local ns name node ip rows
	rows=$(api_pods_of "$@") || return 1
	while read -r ns name node ip; do
		[[ -n $ns ]] || continue
		# shellcheck disable=SC2086
		lab_pod "$ns.$name" "$node" "$ip" $API_POD_PORTS || return 1
	done <<<"$rows"
}

# api_pod NS NAME NODE IP [k=v...]: a pod in the API and in the lab.
api_pod() {
	local ns=$1 name=$2 node=$3 ip=$4
	shift 4
	api_ctl pod "$ns" "$name" --ip "$ip" --node "$node" "$@" || return 1
	# shellcheck disable=SC2086
	lab_pod "$ns.$name" "$node" "$ip" $API_POD_PORTS
}

# api_pod_del NS NAME: delete a pod from the API and the lab.
api_pod_del() {
	api_ctl delete pod "$1" "$2" || return 1
	lab_pod_del "$1.$2"
}

# --- the agents -------------------------------------------------------------------

# api_agent_start NODE [ARGS...]: netpold --kubeconfig in NODE (legacy backend,
# metrics on 127.0.0.1:$SCN_METRICS_PORT there; scn_agent_* helpers apply).
api_agent_start() {
	local node=$1 pid
	shift
	pid=$(lab_spawn "$node" "$SCN_DIR/netpold-$node.log" "$SCN_NETPOLD" \
		--kubeconfig "$API_STATE/kubeconfig" --node-name "$node" --backend legacy \
		--metrics-addr "127.0.0.1:$SCN_METRICS_PORT" "$@") || return 1
	echo "$pid" >"$SCN_DIR/agent-$node.pid"
}

# api_agents_up [ARGS...]: netpold on node1 and node2, both ready (30 s).
api_agents_up() {
	api_agent_start node1 "$@" && api_agent_start node2 "$@" &&
		scn_agent_ready node1 30 && scn_agent_ready node2 30
}

# api_setup_aks: the start the API scenarios share. Needs root and the binaries, sets
# T0 (the start time), runs api_aks_up and starts netpold --kubeconfig on node1 and
# node2. Exits 1 after the logs and the summary when any of it fails.
api_setup_aks() {
	scn_need_root
	scn_need_bins netpold curl ipset
	# shellcheck disable=SC2034 # read by the calling scenario
	T0=$(scn_now)
	if ! api_aks_up ||
		! api_step "netpold --kubeconfig ready on node1 and node2" api_agents_up; then
		api_dump_on_failure
		lab_summary
		exit 1
	fi
}

# api_setup_aks_db: api_setup_aks, then the six watches (3 resources x 2 agents) open
# and the AKS db-policy holding on packets: apipod reaches dbpod on 80/tcp, toolpod
# does not. The state the API fault scenarios start their fault from.
api_setup_aks_db() {
	api_setup_aks
	lab_check "six watches open" api_wait_watchers 6
	api_expect "before: apipod reaches dbpod, toolpod does not" 15 <<-EOF
		frontend.apipod backend.dbpod 80 tcp ok
		frontend.toolpod backend.dbpod 80 tcp fail
	EOF
}

# api_finish: the end the API scenarios share: both agents still running, stopped
# with SIGTERM, nothing of netpold's left after --cleanup; prints the time since T0
# and the summary, whose status it returns.
api_finish() {
	local n
	for n in node1 node2; do
		lab_check "netpold on $n still running" _lab_proc_alive "$(scn_agent_pid "$n")"
	done
	lab_check "netpold stops on SIGTERM" scn_agents_down
	lab_check "netpold --cleanup leaves nothing" scn_no_npd_left node1 node2
	echo "time: $(scn_since "$T0")s"
	lab_summary
}

# api_metric_sum NODE FAMILY [LABEL_SUBSTR]: the sum of every series of FAMILY
# (whose labels contain LABEL_SUBSTR); 0 when absent.
api_metric_sum() {
	local body
	body=$(scn_http "$1" /metrics) || return 1
	awk -v f="$2" -v l="${3:-}" '$1 !~ /^#/ {
		n = $1; sub(/\{.*/, "", n)
		if (n == f && index($1, l)) s += $2
	} END { printf "%.6g\n", s + 0 }' <<<"$body"
}

# api_metrics_total FAMILY [LABEL_SUBSTR]: api_metric_sum over node1 and node2.
api_metrics_total() {
	local a b
	a=$(api_metric_sum node1 "$@") || return 1
	b=$(api_metric_sum node2 "$@") || return 1
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6g\n", a + b }'
}

# api_wait_watchers N [TIMEOUT_S]: the API server has at least N open watches.
api_wait_watchers() {
	api_ctl wait-watchers "$1" --timeout "${2:-20}" >/dev/null
}

# --- expectations -----------------------------------------------------------------

# api_matrix OUT: stdin lines "FROM TO PORT PROTO ok|fail" (TO a lab pod name or
# an address) to a lab_check_matrix file.
api_matrix() {
	local from to port proto want ip
	: >"$1"
	while read -r from to port proto want; do
		if [[ -z $from || $from == \#* ]]; then
			continue
		fi
		if [[ $to =~ ^[0-9.]+$ || $to == *:* ]]; then
			ip=$to
		else
			ip=$(lab_pod_ip "$to") || return 1
		fi
		echo "$from $ip $port $proto $want" >>"$1"
	done
}

# api_db_probes ok|fail: api_expect lines for what db-policy alone decides in the AKS
# scenario, with ok while it is gone and fail while it is enforced: dbpod reached from
# toolpod, coredns and the vm, and dbpod reaching coredns and toolpod. apipod -> dbpod
# 80/TCP is ok either way.
api_db_probes() {
	local r=$1
	printf '%s\n' "frontend.toolpod backend.dbpod 80 tcp $r" \
		"kube-system.coredns backend.dbpod 80 tcp $r" "vm backend.dbpod 80 tcp $r" \
		"backend.dbpod kube-system.coredns 53 udp $r" \
		"backend.dbpod frontend.toolpod 80 tcp $r" "frontend.apipod backend.dbpod 80 tcp ok"
}

# api_db_cycle: deletes db-policy through the API and creates it again, expecting its
# effect to go and to come back (api_db_probes); apppod -> dbpod stays denied meanwhile
# and apipod -> dbpod 53/UDP once db-policy is back.
api_db_cycle() {
	lab_check "delete db-policy" api_ctl delete netpol backend db-policy
	api_expect "db-policy gone: dbpod open" 15 <<-EOF
		$(api_db_probes ok)
		frontend.apppod backend.dbpod 80 tcp fail
	EOF
	lab_check "create db-policy" api_create aks-db-policy.json
	api_expect "db-policy back: dbpod closed" 15 <<-EOF
		$(api_db_probes fail)
		frontend.apipod backend.dbpod 53 udp fail
	EOF
}

# api_expect NAME TIMEOUT_S <<EOF: the matrix on stdin must hold within
# TIMEOUT_S (probed until it does), then every line is counted. Dumps the
# nodes' rules on failure.
api_expect() {
	local name=$1 t=$2 f
	f=$SCN_DIR/expect.${name//[^A-Za-z0-9_.-]/_}
	if ! api_matrix "$f"; then
		lab_check "$name: expectation readable" false
		return 1
	fi
	echo "  -- $name"
	if ! scn_matrix_eventually "$f" "$t"; then
		api_dump_on_failure
		return 1
	fi
}

# api_dump_on_failure: once per run, the kernel state and logs for the report.
api_dump_on_failure() {
	if [[ -n ${_API_DUMPED:-} ]]; then
		return 0
	fi
	_API_DUMPED=1
	scn_dump node1
	scn_dump node2
	echo "---- apiserver log (tail) ----"
	tail -n 20 "$LAB_STATE/logs/apiserver.log" 2>/dev/null
}

# api_watch_count FILE RESULT [FROM_T [TO_T]]: lines of a lab_probe_watch file
# with RESULT (ok|fail) and a timestamp in [FROM_T, TO_T).
api_watch_count() {
	awk -v r="$2" -v a="${3:-0}" -v b="${4:-1e18}" \
		'$2 == r && $1 + 0 >= a + 0 && $1 + 0 < b + 0 { n++ } END { print n + 0 }' "$1"
}

# api_watch_first FILE RESULT [FROM_T]: timestamp of the first RESULT line at
# or after FROM_T; returns 1 if none.
api_watch_first() {
	awk -v r="$2" -v a="${3:-0}" '$2 == r && $1 + 0 >= a + 0 { print $1; f = 1; exit } END { exit !f }' "$1"
}

# api_watch_lines FILE: how many lines a watch file holds (0 if absent).
api_watch_lines() {
	if [[ -e $1 ]]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# api_watch_wait FILE N [TIMEOUT_S]: until the watch file holds N more lines
# than it had (i.e. the watcher runs).
api_watch_wait() {
	local f=$1 want t=${3:-10}
	want=$(($(api_watch_lines "$f") + $2))
	scn_poll "$t" _api_watch_has "$f" "$want"
}

_api_watch_has() { (($(api_watch_lines "$1") >= $2)); }

# api_ge A B: A >= B as numbers.
api_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
api_gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
