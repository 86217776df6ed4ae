#!/usr/bin/env bash
# test_agent_files.sh: the agent's own contracts with the manifests source and the legacy
# backend, inside a network namespace of its own (no pods, no packets): readiness, reload
# on edit / rename / add / delete, one object defined in several files, a malformed file
# keeping the last good state, pod churn touching ipsets only, drift repair by the resync,
# SIGTERM leaving rules in force, a restart replacing them, and --cleanup restoring the
# namespace's tables and sets.
#
# Root only (exit 77 otherwise). Env: NPD_BUILD_DIR (netpold), NPD_SRC_DIR.
set -u

# shellcheck source=lib/agentenv.sh
. "$(dirname "$0")/lib/agentenv.sh"
agentenv_init
NETPOLD=$BUILD/netpold
if [[ ! -x $NETPOLD ]]; then
	echo "SKIP: $NETPOLD not built"
	exit 77
fi
for tool in iptables-legacy-save ipset curl ip; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool missing"
		exit 77
	fi
done

NS=npd-agent-$$
WORK=$(mktemp -d /tmp/npd-agent-test.XXXXXX)
DIR=$WORK/manifests
LOG=$WORK/netpold.log
PORT=9100
URL=http://127.0.0.1:$PORT
PID=
PASSED=0
FAILED=0

cleanup() {
	if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	if [[ $FAILED -gt 0 && -f $LOG ]]; then
		echo "--- netpold log (last 40 lines)"
		tail -n 40 "$LOG"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' TERM INT HUP

nsx() { ip netns exec "$NS" "$@"; }

pass() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $1"
}
check() { # DESC CMD...
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# Polls CMD for up to 15 s (no fixed sleeps).
wait_until() { # DESC CMD...
	local desc=$1 i
	shift
	for ((i = 0; i < 150; i++)); do
		if "$@"; then
			pass "$desc"
			return 0
		fi
		sleep 0.1
	done
	fail "$desc (timed out)"
	return 1
}

http_code() { nsx curl -s -o /dev/null -m 2 -w '%{http_code}' "$URL$1"; }
ready() { [[ $(http_code /readyz) == 200 ]]; }
# Value of one sample of /metrics (0 when absent).
metric() {
	nsx curl -s -m 2 "$URL/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}
metric_gt() { (($(metric "$1") > $2)); }
rules() { nsx iptables-legacy-save -t filter; }
has_rule() { rules | grep -qE -- "$1"; }
no_rule() { ! has_rule "$1"; }
n_chains() { rules | grep -c '^:NPD-'; }
# The sets of ours that hold ip: peer sets by default; "group" for the local pod groups'
# sets, which NPD-FORWARD's dispatch chains match, "isolated" for those of the isolated
# local pods, which are the counted ones.
sets_with() {
	local fwd
	fwd=$(rules | awk '$2 == "NPD-FORWARD" || $2 ~ /^NPD-FWD-/' | grep -o 'match-set npd-[0-9a-f-]*' | cut -d' ' -f2 | sort -u)
	nsx ipset save | awk -v ip="$1" -v want="${2:-peer}" -v fwd="$fwd" '
		BEGIN { n = split(fwd, f, "\n"); for (i = 1; i <= n; i++) local[f[i]] = 1 }
		$1 == "create" { counted[$2] = / counters( |$)/ }
		$1 == "add" && $2 ~ /^npd-/ && $3 == ip {
			kind = counted[$2] ? "isolated" : local[$2] ? "group" : "peer"
			if (kind == want) print $2
		}'
}
in_some_set() { [[ -n $(sets_with "$1") ]]; }
in_no_set() { [[ -z $(sets_with "$1") ]]; }
in_one_group() { [[ $(sets_with "$1" group | wc -l) -eq 1 && $(sets_with "$1" isolated | wc -l) -eq 1 ]]; }
# Chains, rules and sets, without counters or comments.
snapshot() {
	{
		nsx iptables-legacy-save | grep -E '^(-A|:)' |
			grep -vE '^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) '
		nsx ip6tables-legacy-save | grep -E '^(-A|:)' |
			grep -vE '^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) '
		nsx ipset list -n
	} 2>/dev/null | sort
}

start() {
	# ip netns exec execs netpold itself, so $! is netpold's pid (a function run in the
	# background would be a subshell, and the signals would miss netpold).
	ip netns exec "$NS" "$NETPOLD" --manifests "$DIR" --node-name node1 --backend legacy \
		--metrics-addr "127.0.0.1:$PORT" --resync-period 1s >>"$LOG" 2>&1 &
	PID=$!
}
stop() { # SIGNAL
	kill "-$1" "$PID"
	wait "$PID"
	local rc=$?
	PID=
	return $rc
}

write_ns() {
	cat >"$DIR/ns.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels:
    kubernetes.io/metadata.name: prod
EOF
}
pod() { # NAME APP NODE IP: a Running pod of prod on NODE
	cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: prod, labels: {app: $2}}
spec: {nodeName: $3, containers: [{name: c, image: x}]}
status: {phase: Running, podIP: $4, podIPs: [{ip: $4}]}
EOF
}
write_pods() { # web (local) and client (remote)
	{
		pod web web node1 10.244.1.10
		echo ---
		pod client client node2 10.244.2.20
	} >"$DIR/pods.yaml"
}
policy() { # PORT
	cat <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    ports:
    - {protocol: TCP, port: $1}
EOF
}

ip netns add "$NS" || exit 1
nsx ip link set lo up

# Options are checked before anything touches the kernel.
check "unknown option exits 2" ip netns exec "$NS" bash -c "'$NETPOLD' --bogus 2>/dev/null; [[ \$? == 2 ]]"
check "bad --mark exits 2" ip netns exec "$NS" bash -c "'$NETPOLD' --manifests /tmp --mark 0x3 2>/dev/null; [[ \$? == 2 ]]"
check "bad --metrics-addr exits 2" \
	ip netns exec "$NS" bash -c "'$NETPOLD' --manifests /tmp --metrics-addr nope 2>/dev/null; [[ \$? == 2 ]]"
check "bad duration exits 2" \
	ip netns exec "$NS" bash -c "'$NETPOLD' --manifests /tmp --resync-period 5x 2>/dev/null; [[ \$? == 2 ]]"

BASELINE=$(snapshot)
mkdir -p "$DIR"
write_ns
write_pods
policy 80 >"$DIR/policy.yaml"

# 1. Start: ready after the first sync; chains and sets in the kernel.
start
wait_until "/readyz turns 200" ready
check "/healthz is 200" [ "$(http_code /healthz)" = 200 ]
check "NPD- chains exist" [ "$(n_chains)" -gt 0 ]
check "policy port 80 in the rules" has_rule '--dport 80 '
check "client IP is in a set" in_some_set 10.244.2.20
check "local pod IP is in no peer set" in_no_set 10.244.1.10
check "local pod IP is in one group's set and the isolated pods' set" in_one_group 10.244.1.10
check "syncs_total ok counted" metric_gt 'netpold_syncs_total{result="ok"}' 0
# Every sync's time is split into its steps; the compile always takes some.
phases_split() {
	local p m
	m=$(nsx curl -s -m 2 "$URL/metrics")
	for p in wait compile plan counters sets tables table_read table_commit after; do
		grep -q "^netpold_last_sync_phase_seconds{phase=\"$p\"} " <<<"$m" || return 1
	done
	awk '$1 == "netpold_last_sync_phase_seconds{phase=\"compile\"}" { f = $2 > 0 }
		END { exit !f }' <<<"$m"
}
check "the last sync's time split into its steps" phases_split
check "per-policy rule counters exported" bash -c "ip netns exec $NS curl -s $URL/metrics | grep -q '^netpold_policy_rule_packets_total{namespace=\"prod\",policy=\"web-from-client\",direction=\"ingress\",rule=\"0\"} '"

# 2. Edit a file in place (truncate and write).
policy 8080 >"$DIR/policy.yaml"
wait_until "in-place edit reaches the kernel" has_rule '--dport 8080 '
check "old port gone" no_rule '--dport 80 '

# 3. Pod churn by atomic rename: set membership only, no table commit.
COMMITS=$(metric 'netpold_table_commits_total{family="ipv4"}')
SETUPD=$(metric netpold_set_updates_total)
write_pods
cp "$DIR/pods.yaml" "$WORK/pods.new"
{
	echo ---
	pod client2 client node2 10.244.2.21
} >>"$WORK/pods.new"
mv "$WORK/pods.new" "$DIR/.pods.tmp" && mv "$DIR/.pods.tmp" "$DIR/pods.yaml"
wait_until "renamed file: new remote pod joins the set" in_some_set 10.244.2.21
check "set updates counted" metric_gt netpold_set_updates_total "$SETUPD"
check "pod churn made no table commit" \
	[ "$(metric 'netpold_table_commits_total{family="ipv4"}')" = "$COMMITS" ]

# 4. Add a file, then delete it.
CHAINS=$(n_chains)
{
	pod db db node1 10.244.1.30
	cat <<'EOF'
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-deny, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
EOF
} >"$WORK/db.yaml"
cp "$WORK/db.yaml" "$DIR/db.yaml"
wait_until "added file adds chains" bash -c "(( \$(ip netns exec $NS iptables-legacy-save -t filter | grep -c '^:NPD-') > $CHAINS ))"
rm "$DIR/db.yaml"
wait_until "deleted file removes its chains" bash -c "(( \$(ip netns exec $NS iptables-legacy-save -t filter | grep -c '^:NPD-') == $CHAINS ))"

# 4b. Files that define one object: the last loaded wins, and when it drops the object, a
# definition left in another file comes back.
policy 9443 >"$DIR/zz-dup1.yaml"
wait_until "a second definition replaces the first" has_rule '--dport 9443 '
policy 9444 >"$DIR/zz-dup2.yaml"
wait_until "a third definition replaces the second" has_rule '--dport 9444 '
check "one definition in force" no_rule '--dport (8080|9443) '
policy 9445 >"$WORK/dup1" && mv "$WORK/dup1" "$DIR/zz-dup1.yaml"
wait_until "a rewritten definer becomes the one in force" has_rule '--dport 9445 '
check "the rewrite replaced the other definitions" no_rule '--dport (8080|9443|9444) '
rm "$DIR/zz-dup2.yaml"
# Removing a definition not in force changes nothing: seen once a later file is in force.
CHAINS=$(n_chains)
cp "$WORK/db.yaml" "$DIR/db.yaml"
wait_until "a file loaded after the removal is in force" \
	bash -c "(( \$(ip netns exec $NS iptables-legacy-save -t filter | grep -c '^:NPD-') > $CHAINS ))"
check "removing a definer not in force keeps the one in force" has_rule '--dport 9445 '
check "nothing of the removed definer comes back" no_rule '--dport (8080|9443|9444) '
rm "$DIR/db.yaml"
wait_until "the later file is gone again" \
	bash -c "(( \$(ip netns exec $NS iptables-legacy-save -t filter | grep -c '^:NPD-') == $CHAINS ))"
policy 9443 >"$WORK/dup1" && mv "$WORK/dup1" "$DIR/zz-dup1.yaml"
wait_until "the definer in force is rewritten" has_rule '--dport 9443 '
policy 9444 >"$DIR/zz-dup2.yaml"
wait_until "a third definition replaces it again" has_rule '--dport 9444 '
rm "$DIR/zz-dup2.yaml"
wait_until "removing the winner brings back another file's definition" \
	has_rule '--dport (8080|9443) '
check "the removed definition is gone" no_rule '--dport 9444 '
rm "$DIR/zz-dup1.yaml"
wait_until "removing the last other file brings back the first definition" \
	has_rule '--dport 8080 '
check "only the first definition is left" no_rule '--dport (9443|9444) '

# 5. A malformed file keeps its last good state and is counted.
ERRS=$(metric 'netpold_manifest_loads_total{result="error"}')
printf 'kind: NetworkPolicy\nmetadata: {name: [oops\n  spec: {\n' >"$DIR/policy.yaml"
wait_until "malformed file is reported" metric_gt 'netpold_manifest_loads_total{result="error"}' "$ERRS"
check "malformed file keeps the last good rules" has_rule '--dport 8080 '
check "agent still healthy" [ "$(http_code /healthz)" = 200 ]
OKS=$(metric 'netpold_manifest_loads_total{result="ok"}')
policy 8080 >"$DIR/policy.yaml"
wait_until "the mended file is loaded" metric_gt 'netpold_manifest_loads_total{result="ok"}' "$OKS"
SYNCS=$(metric 'netpold_syncs_total{result="ok"}')
wait_until "a sync lands after the mended file" metric_gt 'netpold_syncs_total{result="ok"}' "$SYNCS"

# 6. Drift: a flushed set, a flushed chain and a removed hook come back at the next
# resync. The resync runs every second, so it may repair a change before a check could see
# it; each repair is proven by the drift counter growing instead.
drifts() { metric netpold_drift_repairs_total; }
D=$(drifts)
for SET in $(sets_with 10.244.2.20); do nsx ipset flush "$SET"; done
wait_until "resync refills the flushed set" in_some_set 10.244.2.20
check "the refill was a counted drift repair" metric_gt netpold_drift_repairs_total "$D"
D=$(drifts)
CHAIN=$(rules | awk '/^-A NPD-/ && /--dport 8080 / { print $2; exit }')
nsx iptables-legacy -F "$CHAIN"
wait_until "resync restores the flushed chain" has_rule "^-A $CHAIN .*--dport 8080 "
check "the chain repair was counted" metric_gt netpold_drift_repairs_total "$D"
D=$(drifts)
HOOK=$(rules | awk '/^-A (INPUT|FORWARD|OUTPUT) .*-j NPD-/ { print; exit }')
# shellcheck disable=SC2086 # the rule's words are iptables arguments
nsx iptables-legacy ${HOOK/-A/-D}
wait_until "resync restores the hook" has_rule "^${HOOK}\$"
check "the hook repair was counted" metric_gt netpold_drift_repairs_total "$D"

# 7. SIGTERM leaves the rules in force.
BEFORE=$(snapshot)
stop TERM
check "SIGTERM exits 0" [ $? -eq 0 ]
check "rules stay after SIGTERM" [ "$(snapshot)" = "$BEFORE" ]

# 8. A restart with a changed policy replaces the rules.
policy 9090 >"$DIR/policy.yaml"
start
wait_until "restart: ready again" ready
wait_until "restart: new port in force" has_rule '--dport 9090 '
check "restart: old port gone" no_rule '--dport 8080 '
check "restart: everything rewritten in one ipv4 commit" \
	[ "$(metric 'netpold_table_commits_total{family="ipv4"}')" = 1 ]
check "restart: one ipv6 commit" [ "$(metric 'netpold_table_commits_total{family="ipv6"}')" = 1 ]
check "restart: remote pods still in sets" in_some_set 10.244.2.21
stop INT
check "SIGINT exits 0" [ $? -eq 0 ]

# 9. --cleanup restores what was there before netpold first ran.
nsx "$NETPOLD" --cleanup --backend legacy 2>>"$LOG"
check "--cleanup exits 0" [ $? -eq 0 ]
check "--cleanup leaves the tables and sets as before" [ "$(snapshot)" = "$BASELINE" ]

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
