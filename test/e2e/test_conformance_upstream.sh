#!/usr/bin/env bash
# test_conformance_upstream.sh: the upstream Kubernetes Netpol e2e cases
# (kubernetes/kubernetes test/e2e/network/netpol/network_policy.go), carried as data in
# test/conformance/cases/, on real packets through the API source.
#
# One topology for every case, as upstream builds it: namespaces x, y, z (labels ns=NAME
# and kubernetes.io/metadata.name) with pods a, b, c each (label pod=NAME, container ports
# serve-80-tcp, serve-81-udp, ... for 80 and 81 over TCP, UDP and SCTP), dual-stack,
# alternating between node1 and node2, serving 80 and 81 on TCP and UDP. The probes and
# ipBlocks use the IPv4 addresses; NPD_UPSTREAM_FAMILY=6 runs the cases on IPv6 instead.
# netpold runs on both nodes with --kubeconfig against the test API server. Each case's steps (create, replace,
# delete policies; relabel pods and namespaces) are kubectl calls against that server;
# after each, both agents must have received the watch events and synced, then the
# case's pod matrix is probed on the step's port and protocol and compared with upstream's
# reachability (written in the case file from the upstream test, not computed here).
# After a case its policies are deleted and the labels it changed restored.
#
# SCTP: the lab kernel has no SCTP sockets, so the SCTP cases are checked at rule level:
# the objects are read back from the API (kubectl get), compiled for both nodes and the
# compiled rules walked by test/unit/eval_rules. Then raw SCTP INIT packets
# (lib/sctpraw.py: protocol 132 through raw sockets, a sink in every pod) cross the
# nodes' filters and must reach exactly the allowed pods. No association is ever set up,
# so these cases are reported as "SCTP: rule level", never as a packet pass.
#
# Run one or a few cases by file name or by a piece of the upstream name:
#   bash test/e2e/test_conformance_upstream.sh ports egress-cidr
#   NPD_UPSTREAM_CASES="'default-deny-all'" bash test/e2e/test_conformance_upstream.sh
# Needs root, kubectl, the build (netpold, eval_rules). Prints one PASS/FAIL line per
# upstream case (the differing cells under a FAIL), then the totals; exits non-zero when
# a case fails.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

UP_PY=$HERE/lib/upstream.py
UP_EVAL=$NPD_BUILD_DIR/eval_rules
UP_SCTP=$HERE/lib/sctpraw.py
UP_KUBECTL=${KUBECTL:-kubectl}
UP_TIMEOUT=${NPD_UPSTREAM_TIMEOUT:-10}
UP_V6=
if [[ ${NPD_UPSTREAM_FAMILY:-4} == 6 ]]; then
	UP_V6=1
fi
UP_CASES=("$@")
if ((${#UP_CASES[@]} == 0)) && [[ -n ${NPD_UPSTREAM_CASES:-} ]]; then
	eval "UP_CASES=($NPD_UPSTREAM_CASES)"
fi

scn_need_root
scn_need_bins netpold curl ipset "$UP_KUBECTL"
if [[ ! -x $UP_EVAL ]]; then
	echo "FAIL: eval_rules not found at $UP_EVAL (build first)"
	echo "0 passed, 1 failed"
	exit 1
fi
# shellcheck disable=SC2034 # read by api_finish
T0=$(scn_now)

# up_kubectl ARGS...: kubectl against the test API server, from the "api" host.
up_kubectl() {
	lab_exec api "$UP_KUBECTL" --kubeconfig "$API_STATE/kubeconfig" \
		--cache-dir "$API_STATE/kcache" --request-timeout=10s "$@"
}

# up_topology: the namespaces and pods through the API, a lab pod for each.
up_topology() {
	local lab node ip4 ip6
	"$LAB_PYTHON" "$UP_PY" topology "$SCN_DIR/topology.json" >"$SCN_DIR/pods" &&
		api_ctl create "$SCN_DIR/topology.json" >/dev/null || return 1
	while read -r lab node ip4 ip6; do
		lab_pod "$lab" "$node" "$ip4" "$ip6" 80 81 || return 1
		lab_spawn "$lab" "$LAB_STATE/logs/sctpraw.log" "$LAB_PYTHON" -S "$UP_SCTP" sink \
			"$LAB_STATE/logs/sctp-$lab.log" >/dev/null || return 1
	done <"$SCN_DIR/pods"
	while read -r lab _; do
		scn_poll 5 test -e "$LAB_STATE/logs/sctp-$lab.log" || return 1
	done <"$SCN_DIR/pods"
}

# _up_counts NODE: "EVENTS SYNCS": object watch events received, successful syncs.
_up_counts() {
	scn_http "$1" /metrics | awk '
		/^netpold_watch_events_total\{/ && /type="(ADDED|MODIFIED|DELETED)"/ { e += $2 }
		/^netpold_syncs_total\{result="ok"\}/ { s += $2 }
		END { printf "%d %d\n", e, s }'
}

_up_caught_up() { # NODE EVENTS SYNCS
	local e s
	read -r e s <<<"$(_up_counts "$1")" || return 1
	((e >= $2 && s > $3))
}

# up_write EVENTS ARGS...: kubectl ARGS, then wait until each agent has received EVENTS
# more object events and synced after them.
up_write() {
	local k=$1 n e s
	local -A be=() bs=()
	shift
	for n in node1 node2; do
		read -r e s <<<"$(_up_counts "$n")"
		be[$n]=$e bs[$n]=$s
	done
	if ! up_kubectl "$@" >>"$SCN_DIR/kubectl.log" 2>&1; then
		echo "  kubectl $*: failed: $(tail -n 1 "$SCN_DIR/kubectl.log")"
		return 1
	fi
	for n in node1 node2; do
		if ! scn_poll "$UP_TIMEOUT" _up_caught_up "$n" "$((be[$n] + k))" "${bs[$n]}"; then
			echo "  kubectl $*: $n did not receive $k event(s) and sync within ${UP_TIMEOUT}s"
			return 1
		fi
	done
}

# _up_name IP: the pod ref (x/a) of a topology address.
_up_name() { awk -v ip="$1" '$3 == ip || $4 == ip { sub(/\./, "/", $1); print $1 }' "$SCN_DIR/pods"; }

# _up_diff ON GOT WANT...: the cells of a probed matrix GOT (lab_probe_matrix -v lines)
# whose result is not the WANT of the same line.
_up_diff() {
	local on=$1 got=$2 from ip res why n=0
	shift 2
	while read -r from ip _ _ res why; do
		n=$((n + 1))
		if [[ $res != "${!n}" ]]; then
			echo "    ${from/./\/} -> $(_up_name "$ip") $on: want ${!n}, got $res${why:+ ($why)}"
		fi
	done <<<"$got"
}

# up_expect FILE ON: probe FILE ("FROM TO_IP PORT PROTO ok|fail") until it matches (at
# most UP_TIMEOUT s); on a mismatch print every differing cell.
up_expect() {
	local f=$1 on=$2 end got first='' tries=0 t0
	local -a wants=()
	mapfile -t wants < <(awk '{ print $5 }' "$f")
	t0=$(scn_now)
	end=$(awk -v t="$UP_TIMEOUT" -v n="$t0" 'BEGIN { printf "%.3f", n + t }')
	while :; do
		got=$(cut -d' ' -f1-4 "$f" | LAB_PROBE_TIMEOUT=0.5 lab_probe_matrix -v -) || return 1
		tries=$((tries + 1))
		if [[ $(awk '{ print $5 }' <<<"$got") == "$(printf '%s\n' "${wants[@]}")" ]]; then
			# The agents had synced before the first probe: a later match is news.
			if ((tries > 1)); then
				echo "  $on: matched on probe $tries, $(scn_since "$t0")s after the sync; the first probe had:"
				_up_diff "$on" "$first" "${wants[@]}"
			fi
			return 0
		fi
		first=${first:-$got}
		if awk -v e="$end" -v n="$(date +%s.%N)" 'BEGIN { exit !(n > e) }'; then
			break
		fi
		sleep 0.1
	done
	echo "  $on: the matrix differs from upstream's after ${UP_TIMEOUT}s:"
	_up_diff "$on" "$got" "${wants[@]}"
	return 1
}

# up_sctp_raw FILE ON: the same expectations with raw SCTP INIT packets (sctpraw.py): a
# cell is "ok" when the destination's sink logged its tag.
up_sctp_raw() {
	local f=$1 on=$2 src dst port want from to tag got bad=''
	local -a cells=()
	local -A batch=()
	while read -r src dst _ port want from to; do
		tag=$((RANDOM * 32768 + RANDOM + 1))
		cells+=("$dst $port $tag $want $from $to")
		batch[$from]+="$dst $port $tag"$'\n'
	done <"$f"
	for from in "${!batch[@]}"; do
		printf '%s' "${batch[$from]}" |
			lab_exec "${from/\//.}" "$LAB_PYTHON" -S "$UP_SCTP" send &
	done
	wait
	sleep 0.3
	for src in "${cells[@]}"; do
		read -r dst port tag want from to <<<"$src"
		got=fail
		if grep -q " $port $tag\$" "$LAB_STATE/logs/sctp-${to/\//.}.log"; then
			got=ok
		fi
		if [[ $got != "$want" ]]; then
			bad+="    $from -> $to $on: want $want, raw SCTP packets say $got"$'\n'
		fi
	done
	if [[ -n $bad ]]; then
		echo "  $on: raw SCTP INIT packets differ from upstream's:"
		printf '%s' "$bad"
		return 1
	fi
}

# up_rules FILE ON: the SCTP expectations ("SRC DST sctp PORT ok|fail FROM TO") against
# the compiled rules of what the API holds now, then against raw SCTP packets.
up_rules() {
	local f=$1 on=$2 world=$SCN_DIR/world.yaml out bad
	up_kubectl get namespaces,pods,networkpolicies -A -o json 2>>"$SCN_DIR/kubectl.log" |
		"$LAB_PYTHON" "$UP_PY" world >"$world" || return 1
	out=$("$UP_EVAL" "$world" <"$f") || return 1
	bad=$(awk -v on="$on" '$5 != $6 { printf "    %s -> %s %s: want %s, rules say %s\n", $7, $8, on, $6, $5 }' <<<"$out")
	if [[ -n $bad ]]; then
		echo "  $on: the compiled rules differ from upstream's:"
		printf '%s\n' "$bad"
		return 1
	fi
	up_sctp_raw "$f" "$on"
}

if ! api_step "lab: node1, node2, vm and the API server at $API_IP" api_init ||
	! api_step "x, y, z with pods a, b, c through the API, lab pods up" up_topology ||
	! api_step "netpold --kubeconfig ready on node1 and node2" api_agents_up ||
	! api_step "six watches open (3 resources x 2 agents)" api_wait_watchers 6; then
	api_dump_on_failure
	lab_summary
	exit 1
fi
PLAN=$SCN_DIR/plan
if ! "$LAB_PYTHON" "$UP_PY" plan ${UP_V6:+-6} "$SCN_DIR/cases" "${UP_CASES[@]}" >"$PLAN"; then
	lab_check "the cases load" false
	lab_summary
	exit 1
fi

passed=() rules=() failed=()
while IFS=$'\t' read -r -u 3 verb a b rest; do
	case $verb in
	case)
		slug=$a upstream=$b ok=1 packets=0 t_case=$(scn_now)
		;;
	kubectl)
		IFS=$'\t' read -r -a args <<<"$rest"
		up_write "$a" "$b" "${args[@]}" || ok=
		;;
	expect)
		packets=1
		up_expect "$a" "$b" || ok=
		;;
	rules)
		up_rules "$a" "$b" || ok=
		;;
	end)
		took=$(scn_since "$t_case")
		if [[ -z $ok ]]; then
			failed+=("$slug")
			lab_check "$slug: $upstream (${took}s)" false
		elif ((packets)); then
			passed+=("$slug")
			lab_check "$slug: $upstream (${took}s)" true
		else
			rules+=("$slug")
			echo "SCTP: rule level (raw INIT packets agree): $slug: $upstream (${took}s)"
		fi
		;;
	esac
done 3<"$PLAN"

echo "upstream cases: $((${#passed[@]} + ${#rules[@]} + ${#failed[@]})) carried," \
	"${#passed[@]} passed on packets, ${#rules[@]} SCTP at rule level, ${#failed[@]} failed" \
	"${failed[*]:+(${failed[*]})}"
if ((${#failed[@]})); then
	api_dump_on_failure
fi
for n in node1 node2; do
	lab_check "$n: no decode errors" test "$(api_metric_sum "$n" netpold_decode_errors_total)" = 0
done
api_finish
