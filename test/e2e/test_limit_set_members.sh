#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_limit_set_members.sh: the set-member bound on real packets. netpold runs on node1
# with --max-set-members 3, reading a manifest directory: lim/srv (node1) is isolated by
# from-cli (ingress from app=cli pods) and from-ops (ingress from role=ops pods); the
# clients live on node2. Pods are relabelled into and out of app=cli by rewriting their
# manifest files:
#   - 2, then 3 members (at the bound): the app=cli pods reach srv, the others do not;
#   - 4, then 5 members: from-cli fails closed (no client reaches srv), from-ops still
#     admits, the set_members rejection is logged and counted once (not once per sync);
#   - back to 3: admitted again; over again: counted a second time (once per crossing).
# A policy over three decode bounds (peers, ports, expressions) counts as one rejected
# object, with the reason of its first bound.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_setup_lab
MAN=$SCN_DIR/manifests
mkdir -p "$MAN"
SRV=10.244.1.10
REJ='netpold_objects_rejected_total{kind="NetworkPolicy",reason="set_members"}'
LOG=$SCN_DIR/netpold-node1.log

# pod_file NAME APP NODE IP: write the pod lim/NAME (label app=APP) atomically.
pod_file() {
	local f=$MAN/pod-$1.yaml
	echo "{apiVersion: v1, kind: Pod, metadata: {name: $1, namespace: lim, labels: {app: $2}}," \
		"spec: {nodeName: $3, containers: [{name: main, image: nginx}]}," \
		"status: {phase: Running, podIP: $4, podIPs: [{ip: $4}]}}" >"$f.tmp"
	mv "$f.tmp" "$f"
}

# allow_from NAME APP: the policy lim/NAME isolating srv and admitting pods app=APP.
allow_from() {
	echo "---"
	echo "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: $1," \
		"namespace: lim}, spec: {podSelector: {matchLabels: {app: srv}}, ingress:" \
		"[{from: [{podSelector: {matchLabels: {app: $2}}}]}]}}"
}

# seq_list PRE POST N: "PRE1POST, PRE2POST, ..." (YAML flow entries).
seq_list() {
	local i out=
	for ((i = 1; i <= $3; i++)); do out+="${out:+, }$1$i$2"; done
	echo "$out"
}

{
	echo "{apiVersion: v1, kind: Namespace, metadata: {name: lim, labels:" \
		"{kubernetes.io/metadata.name: lim}}}"
	allow_from from-cli cli
	allow_from from-ops ops
	cat <<-EOF
	---
	apiVersion: networking.k8s.io/v1
	kind: NetworkPolicy
	metadata:
	  name: triple
	  namespace: lim
	spec:
	  podSelector:
	    matchLabels:
	      app: none
	  ingress:
	  - from: [$(seq_list '{podSelector: {matchLabels: {k: v' '}}}' 1001)]
	  - ports: [$(seq_list '{port: ' '}' 1001)]
	  egress:
	  - to: [{podSelector: {matchExpressions: [$(seq_list '{key: k' ', operator: Exists}' 1001)]}}]
	EOF
} >"$MAN/base.yaml"
pod_file srv srv node1 $SRV
pod_file c1 cli node2 10.244.2.11
pod_file c2 cli node2 10.244.2.12
pod_file c3 other node2 10.244.2.13
pod_file c4 other node2 10.244.2.14
pod_file c5 other node2 10.244.2.15
pod_file ops ops node2 10.244.2.20

pods_up() {
	lab_pod lim.srv node1 $SRV 80 &&
		lab_pod lim.c1 node2 10.244.2.11 && lab_pod lim.c2 node2 10.244.2.12 &&
		lab_pod lim.c3 node2 10.244.2.13 && lab_pod lim.c4 node2 10.244.2.14 &&
		lab_pod lim.c5 node2 10.244.2.15 && lab_pod lim.ops node2 10.244.2.20
}
if ! lab_check "lab pods up" pods_up; then
	lab_summary
	exit 1
fi
if ! lab_check "netpold --max-set-members 3 ready on node1" eval \
	'scn_agent_start node1 "$MAN" --max-set-members 3 && scn_agent_ready node1'; then
	lab_summary
	exit 1
fi

# expect OK_PODS: those lim pods reach srv on 80/TCP, every other client is refused.
expect() {
	local p want
	: >"$SCN_DIR/exp"
	for p in c1 c2 c3 c4 c5 ops; do
		want=fail
		[[ " $1 " == *" $p "* ]] && want=ok
		echo "lim.$p $SRV 80 tcp $want" >>"$SCN_DIR/exp"
	done
	scn_matrix_eventually "$SCN_DIR/exp" 10
}
rejected() { scn_metric node1 "$REJ" || echo 0; }
over_lines() { grep -c 'kind=limit object=NetworkPolicy name=lim/from-cli .*reason=set_members' "$LOG"; }

echo "# 2 members"
expect "c1 c2 ops"
lab_check "the policy over three decode bounds counts once, by its first (peers)" eval \
	'[[ $(scn_metric node1 "netpold_objects_rejected_total{kind=\"NetworkPolicy\",reason=\"peers\"}") == 1 ]]'
lab_check "and under no other reason" eval \
	'! scn_http node1 /metrics | grep -E "^netpold_objects_rejected_total\\{kind=\"NetworkPolicy\",reason=\"(ports|expressions)\"\\}"'
lab_check "no set_members rejection yet" eval '[[ $(rejected) == 0 ]]'

echo "# 3 members: at the bound"
pod_file c3 cli node2 10.244.2.13
expect "c1 c2 c3 ops"
lab_check "still no set_members rejection" eval '[[ $(rejected) == 0 ]]'

echo "# 4 members: over the bound"
pod_file c4 cli node2 10.244.2.14
expect "ops"
lab_check "from-cli's set is not in the kernel" eval \
	'! scn_kernel node1 | grep -q "^add npd-[0-9a-f]*-4 10.244.2.11\$"'
scn_poll 5 eval '[[ $(rejected) == 1 ]]'
lab_check "counted once in $REJ ($(rejected))" eval '[[ $(rejected) == 1 ]]'
lab_check "logged once, naming the policy, the peer and the set" eval \
	'[[ $(over_lines) == 1 ]] && grep "name=lim/from-cli" "$LOG" | grep -q "path=spec.ingress\[0\].from\[0\] reason=set_members msg=\"set npd-[0-9a-f]*-4 (pods ns=lim app=cli) needs more than the limit of 3 members"'

echo "# 5 members: still over"
pod_file c5 cli node2 10.244.2.15
expect "ops"
lab_check "not counted again while it stays over ($(rejected))" eval '[[ $(rejected) == 1 && $(over_lines) == 1 ]]'

echo "# back to 3 members"
pod_file c4 other node2 10.244.2.14
pod_file c5 other node2 10.244.2.15
expect "c1 c2 c3 ops"

echo "# over again"
pod_file c5 cli node2 10.244.2.15
expect "ops"
scn_poll 5 eval '[[ $(rejected) == 2 ]]'
lab_check "a second crossing counts again ($(rejected))" eval '[[ $(rejected) == 2 ]]'

lab_check "netpold stops and cleans up" eval 'scn_agent_stop node1 && scn_agent_cleanup node1'
lab_check "nothing of netpold left" scn_no_npd_left node1
echo "time: total $(scn_since "$T0")s"
lab_summary
