# shellcheck shell=bash
# scenario.sh: dataplane scenarios on the e2e lab (lab.sh). Builds the lab from
# an example manifest (pods, nodes, addresses, container ports), runs netpold
# inside the lab's node namespaces, and compares the packets with the verdicts
# of `netpolctl simulate`.
#
#   . test/e2e/lib/scenario.sh
#   scn_init                          # lab_init + node1, node2, underlay, vm
#   scn_pods_table FILE|DIR >TABLE    # pods of a manifest, one per line
#   scn_pods_up TABLE                 # a lab pod per row, serving every port
#   scn_agent_start node1 DIR [ARGS]  # netpold in node1's namespace
#   scn_agent_ready node1             # polls /readyz
#   scn_expect FILE|DIR TABLE 4 OUT   # simulate -> "FROM TO_IP PORT PROTO ok|fail"
#   lab_check_matrix OUT
#
# Lab names: manifest node names are the lab node names (node1 = index 1 =
# 10.244.1.0/24, node2 = index 2); pod NS/NAME is lab pod "NS.NAME"; the AKS
# "test VM" 192.168.254.100 (fd00:254::100) is lab vm "vm". Every pod serves
# (TCP and UDP) every port of the scenario: the declared container ports,
# the numeric ports of the policies and $SCN_EXTRA_PORTS, so a denied probe
# is denied by policy, never by a closed port.
#
# Functions print errors as "scn: ..." and return non-zero on failure.

if [[ -n ${_SCN_SH_LOADED:-} ]]; then
	return 0
fi
_SCN_SH_LOADED=1

SCN_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab.sh
. "$SCN_LIBDIR/lab.sh"

NPD_SRC_DIR=${NPD_SRC_DIR:-$(cd "$SCN_LIBDIR/../../.." && pwd)}
NPD_BUILD_DIR=${NPD_BUILD_DIR:-$NPD_SRC_DIR/build}
SCN_NETPOLD=${SCN_NETPOLD:-$NPD_BUILD_DIR/netpold}
SCN_NETPOLCTL=${SCN_NETPOLCTL:-$NPD_BUILD_DIR/netpolctl}
SCN_VM4=192.168.254.100
SCN_VM6=fd00:254::100
SCN_METRICS_PORT=${SCN_METRICS_PORT:-9464}
SCN_EXTRA_PORTS=${SCN_EXTRA_PORTS:-8080/tcp 5353/udp}
SCN_DIR=${SCN_DIR:-}

_scn_err() { echo "scn: $*" >&2; }

# Seconds since the epoch, with fractions.
scn_now() { date +%s.%N; }
scn_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# scn_need_root: exit 77 (ctest skip) unless root.
scn_need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "SKIP: needs root (network namespaces)"
		exit 77
	fi
}

# scn_need_bins [netpold] [netpolctl] [ipset] [curl]: fail (exit 1, counted) when a
# binary this scenario needs is missing.
scn_need_bins() {
	local b p
	for b in "$@"; do
		case $b in
		netpold) p=$SCN_NETPOLD ;;
		netpolctl) p=$SCN_NETPOLCTL ;;
		*) p=$(command -v "$b") || p=/nonexistent/$b ;;
		esac
		if [[ ! -x $p ]]; then
			echo "FAIL: $b not found at $p (build first: cmake --build \$NPD_BUILD_DIR)"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
}

# scn_init: lab_init, nodes node1 (1) and node2 (2), the underlay and the vm.
# SCN_DIR is a scratch directory inside the lab state (removed with the lab).
scn_init() {
	lab_init || return 1
	SCN_DIR=$LAB_STATE/scn
	mkdir -p "$SCN_DIR" || return 1
	lab_node node1 1 && lab_node node2 2 && lab_underlay &&
		lab_vm vm "$SCN_VM4" "$SCN_VM6"
}

# The manifest reader: Pods (and the numeric ports of NetworkPolicies) of
# YAML files. Uses PyYAML when present, else a small parser for the block
# style the examples use. Output, one line per pod with an address:
#   LABNAME NS NAME NODE IP4|- IP6|- PORTS|-      (PORTS: 80/tcp,53/udp)
# and one line "#ports PORT/PROTO ..." with the policies' numeric ports.
# Pods with hostNetwork, without an address or finished are left out.
# shellcheck disable=SC2016
_SCN_PODS_PY='
import os, re, sys

def scalar(s):
    s = s.strip()
    if s == "{}": return {}
    if s == "[]": return []
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'"'"'": return s[1:-1]
    if re.fullmatch(r"-?\d+", s): return int(s)
    if s in ("true", "True"): return True
    if s in ("false", "False"): return False
    if s in ("", "~", "null"): return None
    return s

def uncomment(line):
    q = None
    for i, c in enumerate(line):
        if q:
            if c == q: q = None
        elif c in "\"'"'"'": q = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"): return line[:i].rstrip()
    return line.rstrip()

KEY = re.compile(r"^[^\s\"'"'"'-][^:]*:( |$)|^-[^ ][^:]*:( |$)")

def block(lines, i, ind):
    if lines[i][1] == "-" or lines[i][1].startswith("- "):
        seq = []
        while i < len(lines) and lines[i][0] == ind and (lines[i][1] == "-" or lines[i][1].startswith("- ")):
            rest = lines[i][1][1:].lstrip()
            if rest == "":
                i += 1
                if i < len(lines) and lines[i][0] > ind:
                    v, i = block(lines, i, lines[i][0])
                else:
                    v = None
            elif KEY.match(rest):
                lines[i] = (ind + len(lines[i][1]) - len(rest), rest)
                v, i = block(lines, i, lines[i][0])
            else:
                v, i = scalar(rest), i + 1
            seq.append(v)
        return seq, i
    m = {}
    while i < len(lines) and lines[i][0] == ind and not (lines[i][1] == "-" or lines[i][1].startswith("- ")):
        k, _, rest = lines[i][1].partition(":")
        k, rest = scalar(k), rest.strip()
        i += 1
        if rest == "":
            if i < len(lines) and (lines[i][0] > ind or (lines[i][0] == ind and lines[i][1].startswith("- "))):
                v, i = block(lines, i, lines[i][0])
            else:
                v = None
        else:
            v = scalar(rest)
        m[k] = v
    return m, i

def mini_load_all(text):
    docs, cur = [], []
    for raw in text.splitlines() + ["---"]:
        if raw.startswith("---"):
            lines = []
            for l in cur:
                l = uncomment(l)
                if l.strip():
                    lines.append((len(l) - len(l.lstrip(" ")), l.strip()))
            if lines:
                docs.append(block(lines, 0, lines[0][0])[0])
            cur = []
        else:
            cur.append(raw)
    return docs

def load_all(text):
    try:
        import yaml
        return list(yaml.safe_load_all(text))
    except ImportError:
        return mini_load_all(text)

def get(d, *path):
    for p in path:
        if not isinstance(d, dict): return None
        d = d.get(p)
    return d

files = []
for a in sys.argv[1:]:
    if os.path.isdir(a):
        files += [os.path.join(a, f) for f in sorted(os.listdir(a)) if f.endswith((".yaml", ".yml")) and not f.startswith(".")]
    else:
        files.append(a)
pports = []
for f in files:
    with open(f) as fh:
        docs = load_all(fh.read())
    for d in docs:
        if not isinstance(d, dict): continue
        if d.get("kind") == "NetworkPolicy":
            for dirn in ("ingress", "egress"):
                for r in get(d, "spec", dirn) or []:
                    for p in (r or {}).get("ports") or []:
                        proto = str(p.get("protocol") or "TCP").lower()
                        for key in ("port", "endPort"):
                            if isinstance(p.get(key), int):
                                pports.append("%d/%s" % (p[key], proto))
            continue
        if d.get("kind") != "Pod": continue
        ns = get(d, "metadata", "namespace") or "default"
        name = get(d, "metadata", "name")
        node = get(d, "spec", "nodeName") or "-"
        if get(d, "spec", "hostNetwork") or get(d, "status", "phase") in ("Succeeded", "Failed"):
            continue
        ips = [x.get("ip") for x in (get(d, "status", "podIPs") or []) if isinstance(x, dict)]
        if get(d, "status", "podIP") and get(d, "status", "podIP") not in ips:
            ips.insert(0, get(d, "status", "podIP"))
        ip4 = next((x for x in ips if x and ":" not in x), "-")
        ip6 = next((x for x in ips if x and ":" in x), "-")
        if ip4 == "-" and ip6 == "-": continue
        ports = []
        for c in get(d, "spec", "containers") or []:
            for p in (c or {}).get("ports") or []:
                if isinstance(p.get("containerPort"), int):
                    ports.append("%d/%s" % (p["containerPort"], str(p.get("protocol") or "TCP").lower()))
        print("%s.%s %s %s %s %s %s %s" % (ns, name, ns, name, node, ip4, ip6, ",".join(ports) or "-"))
print("#ports " + " ".join(sorted(set(pports))))
'

# scn_pods_table FILE|DIR...: the pod table of the manifests (see above).
scn_pods_table() {
	python3 -c "$_SCN_PODS_PY" "$@"
}

# scn_ports TABLE: every PORT/PROTO of the scenario (tcp and udp only), one a
# line: declared container ports, policies' numeric ports, $SCN_EXTRA_PORTS.
scn_ports() {
	{
		awk '$1 !~ /^#/ && $7 != "-" { n = split($7, a, ","); for (i = 1; i <= n; i++) print a[i] }' "$1"
		awk '$1 == "#ports" { for (i = 2; i <= NF; i++) print $i }' "$1"
		printf '%s\n' $SCN_EXTRA_PORTS
	} | grep -E '^[0-9]+/(tcp|udp)$' | sort -t/ -k1,1n -k2,2 -u
}

# scn_pods_up TABLE [ROW_FILTER_REGEX]: create a lab pod for every row (on
# its node), serving every port number of scn_ports. Rows on nodes other
# than node1/node2 are skipped with a note.
scn_pods_up() {
	local table=$1 filter=${2:-.} lab ns name node ip4 ip6 rest
	local -a nums=()
	mapfile -t nums < <(scn_ports "$table" | cut -d/ -f1 | sort -nu)
	while read -r lab ns name node ip4 ip6 rest; do
		[[ -z $lab || $lab == \#* ]] && continue
		[[ $lab =~ $filter ]] || continue
		if [[ ! -e $LAB_STATE/nodes/$node ]]; then
			echo "note: pod $ns/$name on node '$node' left out of the lab" >&2
			continue
		fi
		lab_pod "$lab" "$node" "$ip4" "$ip6" "${nums[@]}" || return 1
	done <"$table"
}

# scn_pods_down TABLE: delete the lab pods of the table.
scn_pods_down() {
	local lab rest rc=0
	while read -r lab rest; do
		[[ -z $lab || $lab == \#* ]] && continue
		if [[ -e $LAB_STATE/pods/$lab ]]; then
			lab_pod_del "$lab" || rc=1
		fi
	done <"$1"
	return $rc
}

# scn_expect MANIFEST TABLE FAMILY OUT: the expected matrix for FAMILY (4 or
# 6) from `netpolctl simulate --format tsv`: every lab pod with an address of
# that family, plus the vm, to every other such pod, on every scn_ports port,
# as "FROM TO_IP PORT PROTO ok|fail" lines. A pair simulate gives no verdict
# for is an error (the spec must cover the whole matrix).
scn_expect() {
	local manifest=$1 table=$2 fam=$3 out=$4 vmip tsv rc p
	local -a simargs=() pp=()
	if [[ $fam == 6 ]]; then vmip=$SCN_VM6; else vmip=$SCN_VM4; fi
	mapfile -t pp < <(scn_ports "$table")
	for p in "${pp[@]}"; do
		simargs+=(--port "$p")
	done
	if [[ $fam == 6 ]]; then
		simargs+=(--family 6)
	fi
	tsv=$SCN_DIR/sim.$$.$fam.tsv
	"$SCN_NETPOLCTL" simulate -f "$manifest" --matrix "${simargs[@]}" --from-ip "$vmip" \
		--format tsv >"$tsv" 2>"$tsv.err"
	rc=$?
	# simulate may exit 1 when the matrix holds denials: only a crash or a
	# usage error (no output) is fatal.
	if ((rc > 1)) || [[ ! -s $tsv ]]; then
		_scn_err "netpolctl simulate failed (rc $rc): $(head -c 400 "$tsv.err")"
		return 1
	fi
	awk -v fam="$fam" -v vmip="$vmip" -v ports="${pp[*]}" -v table="$table" '
	function isfam(ip) { return fam == 6 ? ip ~ /:/ : (ip != "-" && ip !~ /:/) }
	BEGIN {
		while ((getline line < table) > 0) {
			split(line, f, " ")
			if (f[1] ~ /^#/ || f[1] == "") continue
			ip = fam == 6 ? f[6] : f[5]
			if (ip == "-") continue
			n++; lab[n] = f[1]; addr[n] = ip; id[f[2] "/" f[3]] = f[1]
		}
		np = split(ports, P, " ")
	}
	$0 ~ /^#/ || NF < 7 || toupper($1) == "FROM" || toupper($1) == "FROM_NAME" { next }
	{
		from = ($2 == vmip) ? "vm" : (($1 in id) ? id[$1] : $1)
		v = tolower($7)
		if (v == "allow" || v == "allowed" || v == "ok") r = "ok"
		else if (v == "deny" || v == "denied" || v == "--") r = "fail"
		else { printf "scn: unknown verdict in: %s\n", $0 > "/dev/stderr"; bad = 1; next }
		verdict[from " " $4 " " $5 "/" tolower($6)] = r
	}
	END {
		for (i = 0; i <= n; i++) {
			src = i == 0 ? "vm" : lab[i]
			for (j = 1; j <= n; j++) {
				if (i == j) continue
				for (k = 1; k <= np; k++) {
					key = src " " addr[j] " " P[k]
					if (!(key in verdict)) {
						printf "scn: simulate gave no verdict for %s\n", key > "/dev/stderr"
						bad = 1
						continue
					}
					split(P[k], pq, "/")
					printf "%s %s %s %s %s\n", src, addr[j], pq[1], pq[2], verdict[key]
				}
			}
		}
		exit bad
	}' "$tsv" >"$out"
}

# --- the agent ------------------------------------------------------------------

# scn_agent_start NODE MANIFESTS [ARGS...]: run netpold in NODE's namespace
# (legacy backend, metrics on 127.0.0.1:$SCN_METRICS_PORT of that namespace),
# log in $SCN_DIR/netpold-NODE.log (appended across restarts).
scn_agent_start() {
	local node=$1 man=$2 pid
	shift 2
	pid=$(lab_spawn "$node" "$SCN_DIR/netpold-$node.log" "$SCN_NETPOLD" --manifests "$man" \
		--node-name "$node" --backend legacy --metrics-addr "127.0.0.1:$SCN_METRICS_PORT" "$@") || return 1
	echo "$pid" >"$SCN_DIR/agent-$node.pid"
}

scn_agent_pid() { cat "$SCN_DIR/agent-$1.pid" 2>/dev/null; }

# scn_http NODE PATH: GET from the agent's endpoint; prints the body, returns
# 0 only on 200.
scn_http() {
	local code body
	body=$(lab_exec "$1" curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:$SCN_METRICS_PORT$2" 2>/dev/null) || return 1
	code=${body##*$'\n'}
	printf '%s\n' "${body%$'\n'*}"
	[[ $code == 200 ]]
}

# scn_agent_ready NODE [TIMEOUT_S]: poll /readyz until 200; fails at once if
# the agent died (and shows the end of its log).
scn_agent_ready() {
	local node=$1 t=${2:-15} pid end
	pid=$(scn_agent_pid "$node")
	end=$(awk -v t="$t" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", n + t }')
	while :; do
		if scn_http "$node" /readyz >/dev/null; then
			return 0
		fi
		if [[ -n $pid ]] && ! _lab_proc_alive "$pid"; then
			_scn_err "netpold on $node exited; log:"
			tail -n 15 "$SCN_DIR/netpold-$node.log" >&2
			return 1
		fi
		if awk -v e="$end" -v n="$(date +%s.%N)" 'BEGIN { exit !(n > e) }'; then
			_scn_err "netpold on $node not ready after ${t}s; log:"
			tail -n 15 "$SCN_DIR/netpold-$node.log" >&2
			return 1
		fi
		sleep 0.05
	done
}

# scn_agent_stop NODE [SIGNAL] [TIMEOUT_S]: signal the agent (TERM) and wait
# for it to exit; returns 1 if it does not exit in time (then KILLs it).
scn_agent_stop() {
	local node=$1 sig=${2:-TERM} t=${3:-10} pid i
	pid=$(scn_agent_pid "$node")
	[[ -n $pid ]] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < t * 50; i++)); do
		if ! _lab_proc_alive "$pid"; then
			rm -f "$SCN_DIR/agent-$node.pid"
			return 0
		fi
		sleep 0.02
	done
	_scn_err "netpold on $node (pid $pid) did not exit on SIG$sig in ${t}s"
	kill -KILL "$pid" 2>/dev/null
	return 1
}

# scn_agent_cleanup NODE: netpold --cleanup --backend legacy in NODE.
scn_agent_cleanup() {
	lab_exec "$1" "$SCN_NETPOLD" --cleanup --backend legacy >>"$SCN_DIR/netpold-$1.log" 2>&1
}

# scn_metric NODE SERIES: print the value of one series, e.g.
# 'netpold_table_commits_total{family="ipv4"}' (exact match of the name and
# labels); returns 1 if absent.
scn_metric() {
	local body
	body=$(scn_http "$1" /metrics) || return 1
	awk -v s="$2" '$1 == s { print $2; f = 1; exit } END { exit !f }' <<<"$body"
}

# scn_poll TIMEOUT_S CMD...: run CMD every 50 ms until it succeeds; returns 1
# after TIMEOUT_S. Prints nothing.
scn_poll() {
	local t=$1 end
	shift
	end=$(awk -v t="$t" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", n + t }')
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if awk -v e="$end" -v n="$(date +%s.%N)" 'BEGIN { exit !(n > e) }'; then
			return 1
		fi
		sleep 0.05
	done
}

# scn_kernel NODE: the node's netfilter state as text (v4 and v6 filter
# rules without counters, ipsets without their random initval and entry counters),
# for diffs.
scn_kernel() {
	{
		echo "## iptables-legacy-save"
		lab_exec "$1" iptables-legacy-save
		echo "## ip6tables-legacy-save"
		lab_exec "$1" ip6tables-legacy-save
		echo "## ipset save"
		lab_exec "$1" ipset save 2>/dev/null | sort
	} | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//' -e 's/ initval 0x[0-9a-f]*//' \
		-e 's/ packets [0-9]* bytes [0-9]*$//'
}

# scn_npd_state NODE: only our part (NPD-/npd- lines), for "came back" checks.
scn_npd_state() {
	scn_kernel "$1" | grep -E 'NPD-|npd-' | grep -v '^##'
}

# scn_dump NODE: the node's iptables-legacy-save (v4, v6) and ipsets, for a
# failure report.
scn_dump() {
	echo "---- $1: iptables-legacy-save -c / ip6tables-legacy-save -c / ipset list ----"
	lab_exec "$1" iptables-legacy-save -c 2>&1
	lab_exec "$1" ip6tables-legacy-save -c 2>&1
	lab_exec "$1" ipset list 2>&1 | head -200
	echo "---- $1: netpold log (tail) ----"
	tail -n 20 "$SCN_DIR/netpold-$1.log" 2>/dev/null
}

# scn_matrix_eventually EXPECT TIMEOUT_S: probe EXPECT ("FROM TO_IP PORT PROTO
# ok|fail") until it matches or TIMEOUT_S passes; then lab_check_matrix it
# (counted once per line). Prints how long convergence took.
scn_matrix_eventually() {
	local exp=$1 t=$2 t0 got
	t0=$(scn_now)
	scn_poll "$t" _scn_matrix_matches "$exp" || true
	echo "     (converged or gave up after $(scn_since "$t0")s)"
	lab_check_matrix "$exp"
}

_scn_matrix_matches() {
	local got
	got=$(cut -d' ' -f1-4 "$1" | LAB_PROBE_TIMEOUT=${LAB_PROBE_TIMEOUT:-0.5} lab_probe_matrix -) || return 1
	[[ $got == "$(grep -v '^#' "$1" | grep .)" ]]
}

# scn_setup_lab: needs root and the binaries, sets T0 (the start time) and builds
# the lab. Exits 1 after the summary when the lab fails.
scn_setup_lab() {
	scn_need_root
	scn_need_bins netpold netpolctl curl ipset
	# shellcheck disable=SC2034 # read by the calling scenario
	T0=$(scn_now)
	if ! lab_check "lab: node1, node2, underlay, vm" scn_init; then
		lab_summary
		exit 1
	fi
}

# scn_setup_common EXAMPLE DESC: the start every example scenario shares:
# scn_setup_lab, then copies
# manifests/examples/EXAMPLE into $MAN (= $SCN_DIR/manifests), writes its pod
# table to $TABLE and brings the lab pods up (checked as DESC). Exits 1 after
# the summary when the lab or the pods fail.
scn_setup_common() {
	local example=$1 desc=$2
	scn_setup_lab
	MAN=$SCN_DIR/manifests
	mkdir -p "$MAN" && cp "$NPD_SRC_DIR/manifests/examples/$example" "$MAN/"
	TABLE=$SCN_DIR/pods
	scn_pods_table "$MAN" >"$TABLE"
	if ! lab_check "$desc" scn_pods_up "$TABLE"; then
		lab_summary
		exit 1
	fi
}

# scn_setup_agents DESC [ARGS...]: after scn_setup_common, netpold [ARGS...] on
# node1 and node2 loading $MAN, both ready (checked as DESC). Exits 1 after the
# summary when they are not.
scn_setup_agents() {
	local desc=$1
	shift
	if ! lab_check "$desc" scn_agents_up "$MAN" "$@"; then
		lab_summary
		exit 1
	fi
}

# scn_agents_up MANIFESTS [ARGS...]: start netpold on node1 and node2 and
# wait for both to be ready.
scn_agents_up() {
	local man=$1
	shift
	scn_agent_start node1 "$man" "$@" && scn_agent_start node2 "$man" "$@" &&
		scn_agent_ready node1 && scn_agent_ready node2
}

# scn_agents_down: SIGTERM both agents, then netpold --cleanup on both nodes.
scn_agents_down() {
	local rc=0 n
	for n in node1 node2; do
		scn_agent_stop "$n" || rc=1
	done
	for n in node1 node2; do
		scn_agent_cleanup "$n" || rc=1
	done
	return $rc
}

# scn_no_npd_left NODE...: no NPD- chain or jump (v4, v6) and no npd- set.
scn_no_npd_left() {
	local n left
	for n in "$@"; do
		left=$(scn_kernel "$n" | grep -E 'NPD-|^create npd-|^add npd-')
		if [[ -n $left ]]; then
			echo "  left on $n:" >&2
			head -n 5 <<<"$left" | sed 's/^/    /' >&2
			return 1
		fi
	done
}

# scn_aks_writeup OUT: the AKS write-up's matrix (the header of
# aks-frontend-backend-db.yaml: the four criteria) as lab expectations, on
# 80/TCP and DNS 53/UDP. Independent of netpolctl.
scn_aks_writeup() {
	local db=10.244.2.20 dns=10.244.1.2 api=10.244.1.10 app=10.244.2.10 tool=10.244.1.11
	cat >"$1" <<-EOT
	# (2) no egress from dbpod at all
	backend.dbpod $dns 80 tcp fail
	backend.dbpod $api 80 tcp fail
	backend.dbpod $app 80 tcp fail
	backend.dbpod $tool 80 tcp fail
	backend.dbpod $dns 53 udp fail
	# (1) dbpod only from apipod on 80/TCP; (4) apipod only to backend + DNS
	frontend.apipod $db 80 tcp ok
	frontend.apipod $dns 80 tcp fail
	frontend.apipod $app 80 tcp fail
	frontend.apipod $tool 80 tcp fail
	frontend.apipod $dns 53 udp ok
	# (4) apppod only to apipod + DNS
	frontend.apppod $db 80 tcp fail
	frontend.apppod $dns 80 tcp fail
	frontend.apppod $api 80 tcp ok
	frontend.apppod $tool 80 tcp fail
	frontend.apppod $dns 53 udp ok
	# (1) any other frontend pod is refused by dbpod; (3) VNET reaches api/app
	frontend.toolpod $db 80 tcp fail
	frontend.toolpod $dns 80 tcp ok
	frontend.toolpod $api 80 tcp ok
	frontend.toolpod $app 80 tcp ok
	kube-system.coredns $db 80 tcp fail
	kube-system.coredns $api 80 tcp ok
	kube-system.coredns $app 80 tcp ok
	kube-system.coredns $tool 80 tcp ok
	# the test VM 192.168.254.100, outside the cluster, inside the VNET
	vm $db 80 tcp fail
	vm $dns 80 tcp ok
	vm $api 80 tcp ok
	vm $app 80 tcp ok
	vm $tool 80 tcp ok
	EOT
}
