#!/usr/bin/env bash
# test_agent_retry.sh: a sync that fails to reach the kernel is retried with backoff,
# /readyz stays 503 until one succeeds, nothing is lost on the way, and the failures are
# counted. The fake backend fails its first commits on request (NPD_FAKE_FAIL_COMMITS),
# so no kernel state is involved; the agent runs in its own network namespace only to
# have a loopback of its own. Root only (exit 77 otherwise).
set -u

# shellcheck source=lib/agentenv.sh
. "$(dirname "$0")/lib/agentenv.sh"
agentenv_init
[ "${NPD_TEST_HOOKS:-ON}" = ON ] || { echo "needs a test build (-DNPD_TEST_HOOKS=ON)"; exit 1; }
NS=npd-retry-$$
WORK=$(mktemp -d /tmp/npd-retry.XXXXXX)
PID=
PASSED=0
FAILED=0
cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
check() { # DESC CMD...
	local desc=$1
	shift
	if "$@"; then
		echo "PASS: $desc"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL: $desc"
		FAILED=$((FAILED + 1))
	fi
}
get() { ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:9100$1"; }
metric() {
	local out
	out=$(ip netns exec "$NS" curl -fsS http://127.0.0.1:9100/metrics) || return 1
	awk -v m="$1" 'index($0, m) == 1 { print $2; found = 1; exit } END { if (!found) print 0 }' <<<"$out"
}
poll() { # SECONDS CMD...: true once CMD succeeds within the deadline
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.05
	done
}

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
mkdir -p "$WORK/m"
cat >"$WORK/m/a.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {nodeName: node1}
status: {phase: Running, podIP: 10.244.1.5}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-deny, namespace: shop}
spec: {podSelector: {matchLabels: {app: db}}}
YAML

NPD_FAKE_FAIL_COMMITS=2 ip netns exec "$NS" "$BUILD/netpold" --manifests "$WORK/m" \
	--node-name node1 --backend fake --metrics-addr 127.0.0.1:9100 2>"$WORK/log" &
PID=$!
errors_at_least() { (($(metric 'netpold_syncs_total{result="error"}' | cut -d. -f1) >= $1)); }
check "first sync fails (injected)" poll 10 errors_at_least 1
check "/readyz is 503 while no sync has reached the kernel" test "$(get /readyz)" = 503
check "/healthz is 200 all the while" test "$(get /healthz)" = 200
ready() { [[ $(get /readyz) == 200 ]]; }
check "retried with backoff until it succeeds: /readyz 200" poll 15 ready
check "exactly the 2 injected failures were counted" \
	test "$(metric 'netpold_syncs_total{result="error"}')" = 2
check "then one successful sync" test "$(metric 'netpold_syncs_total{result="ok"}')" = 1
check "the failures were logged" grep -q 'msg="sync failed"' "$WORK/log"
# The backend's own words reach the log, not only strerror's "Resource temporarily unavailable".
check "the failure's detail from the backend was logged" \
	grep -q 'msg="sync failed".* err="fake v4 commit: failing as told (1 more)"' "$WORK/log"
check "recovery was logged" grep -q 'msg="sync recovered"' "$WORK/log"
check "the policy's chains are what got applied (rules gauge)" \
	test "$(metric 'netpold_rules{family="ipv4"}')" != 0
check "netpold still running" kill -0 "$PID"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
