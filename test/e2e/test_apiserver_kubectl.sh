#!/usr/bin/env bash
# The test API server (test/apiserver/npd_apiserver.py) must be good enough for
# the real kubectl: discovery, tables, pagination, watch and auth.
# Usage: test/e2e/test_apiserver_kubectl.sh      (needs python3, openssl, kubectl)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SERVER="$ROOT/test/apiserver/npd_apiserver.py"
CLIENT="$ROOT/test/apiserver/client.py"
KUBECTL=${KUBECTL:-kubectl}

TMP=$(mktemp -d /tmp/npd-kubectl-test.XXXXXX)
STATE="$TMP/state"
KCFG="$TMP/kubeconfig"
SRV_PID=""
WATCH_PID=""

cleanup() {
    local rc=$?
    [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null || true
    if [ -n "$SRV_PID" ]; then
        kill "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$TMP/server.log" ]; then
        echo "--- server log (tail) ---" >&2
        tail -n 40 "$TMP/server.log" >&2 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1" >&2; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     | /' >&2; return 0; }

ctl() { python3 "$CLIENT" --state-dir "$STATE" "$@"; }
k() { "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$TMP/kcache" --request-timeout=10s "$@"; }

# has OUTPUT REGEX...: every regex matches some line of OUTPUT
has() {
    local out=$1; shift
    local re
    for re in "$@"; do
        grep -Eq -- "$re" <<<"$out" || return 1
    done
}

# ---- start the server ------------------------------------------------------
python3 "$SERVER" --listen 127.0.0.1 --port 0 --state-dir "$STATE" --kubeconfig "$KCFG" \
    --bookmark-interval 1 --verbose 2>"$TMP/server.log" &
SRV_PID=$!
ctl wait-ready --timeout 30 || { echo "server did not become ready" >&2; exit 1; }
grep -q '^https://127\.0\.0\.1:[0-9]\+$' "$STATE/url" || { echo "bad url file" >&2; exit 1; }
[ -s "$KCFG" ] || { echo "no kubeconfig written" >&2; exit 1; }

# ---- objects -----------------------------------------------------------------
ctl ns team-a env=prod
ctl ns team-b
ctl pod team-a web-1 --ip 10.20.0.11 --node node-1 app=web
ctl pod team-a web-2 --ip 10.20.0.12 --node node-2 app=web
ctl pod team-b db-0 --ip 10.20.1.10,fd00::10 --node node-1 app=db
cat >"$TMP/np.json" <<'EOF'
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "db-allow-web", "namespace": "team-b"},
 "spec": {"podSelector": {"matchLabels": {"app": "db"}},
          "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "prod"}},
                                 "podSelector": {"matchLabels": {"app": "web"}}}],
                       "ports": [{"port": 5432}]}]}}
EOF
ctl create "$TMP/np.json"

# ---- kubectl get pods -A -------------------------------------------------------
out=$(k get pods -A 2>&1) || true
if has "$out" '^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE' \
        '^team-a +web-1 +1/1 +Running' '^team-a +web-2 +1/1 +Running' '^team-b +db-0 +1/1 +Running' \
   && [ "$(grep -c '^team-' <<<"$out")" -eq 3 ]; then
    pass "kubectl get pods -A lists 3 pods with namespaces"
else
    fail "kubectl get pods -A" "$out"
fi

out=$(k get pods -A -o wide 2>&1) || true
if has "$out" '^team-b +db-0 .* 10\.20\.1\.10 +node-1 '; then
    pass "kubectl get pods -A -o wide shows IP and node"
else
    fail "kubectl get pods -A -o wide" "$out"
fi

# ---- kubectl get ns --------------------------------------------------------------
out=$(k get ns 2>&1) || true
if has "$out" '^NAME +STATUS +AGE' '^team-a +Active' '^team-b +Active'; then
    pass "kubectl get ns shows the namespaces"
else
    fail "kubectl get ns" "$out"
fi

out=$(k get ns team-b --show-labels 2>&1) || true
if has "$out" 'kubernetes\.io/metadata\.name=team-b'; then
    pass "namespace carries kubernetes.io/metadata.name"
else
    fail "namespace label" "$out"
fi

# ---- kubectl get netpol -A ----------------------------------------------------------
out=$(k get netpol -A 2>&1) || true
if has "$out" '^NAMESPACE +NAME +POD-SELECTOR +AGE' '^team-b +db-allow-web +app=db '; then
    pass "kubectl get netpol -A shows the policy"
else
    fail "kubectl get netpol -A" "$out"
fi

out=$(k get netpol -n team-b db-allow-web -o jsonpath='{.spec.policyTypes}/{.spec.ingress[0].ports[0].protocol}/{.metadata.generation}' 2>&1) || true
if [ "$out" = '["Ingress"]/TCP/1' ]; then
    pass "networkpolicy defaulting visible through kubectl"
else
    fail "networkpolicy defaulting" "$out"
fi

# ---- single object get ------------------------------------------------------------------
out=$(k get pod -n team-a web-1 -o jsonpath='{.metadata.name} {.status.podIP} {.metadata.uid}' 2>&1) || true
if [[ "$out" =~ ^web-1\ 10\.20\.0\.11\ [0-9a-f-]{36}$ ]]; then
    pass "kubectl get pod NAME -o jsonpath"
else
    fail "kubectl get pod NAME" "$out"
fi

out=$(k get pod -n team-a nosuch 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && has "$out" 'pods "nosuch" not found'; then
    pass "missing object -> NotFound"
else
    fail "missing object" "$out"
fi

# ---- pagination ----------------------------------------------------------------------------
before=$(ctl stats requests | python3 -c 'import json,sys; print(json.load(sys.stdin).get("list /api/v1/pods", 0))')
out=$(k get pods -A --chunk-size=1 2>&1) || true
after=$(ctl stats requests | python3 -c 'import json,sys; print(json.load(sys.stdin).get("list /api/v1/pods", 0))')
if has "$out" '^team-a +web-1 ' '^team-a +web-2 ' '^team-b +db-0 ' \
   && [ "$(grep -c '^team-' <<<"$out")" -eq 3 ] && [ $((after - before)) -ge 3 ]; then
    pass "kubectl get pods -A --chunk-size=1 pages through all pods ($((after - before)) requests)"
else
    fail "kubectl --chunk-size=1 (requests: $((after - before)))" "$out"
fi

# ---- auth ----------------------------------------------------------------------------------
out=$("$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$TMP/kcache" --request-timeout=10s \
        get pods -A --token wrong 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && has "$out" 'Unauthorized'; then
    pass "kubectl with a wrong token fails with Unauthorized"
else
    fail "wrong token (rc=$rc)" "$out"
fi

# ---- watch -----------------------------------------------------------------------------------
k get pods -A --watch >"$TMP/watch.out" 2>&1 &
WATCH_PID=$!
if ctl wait-watchers 1 --resource pods --timeout 15; then
    ctl pod team-b late-1 --ip 10.20.1.99 app=late
    seen=0
    for _ in $(seq 1 100); do
        if grep -Eq '^team-b +late-1 ' "$TMP/watch.out"; then seen=1; break; fi
        sleep 0.1
    done
    kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=""
    out=$(cat "$TMP/watch.out")
    if [ "$seen" -eq 1 ] && has "$out" '^NAMESPACE +NAME +READY' '^team-a +web-1 +1/1 +Running' \
       && [ "$(grep -c '^NAMESPACE' <<<"$out")" -eq 1 ]; then
        pass "kubectl get pods -A --watch prints existing and newly created pods"
    else
        fail "kubectl get pods -A --watch" "$out"
    fi
else
    kill "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=""
    fail "kubectl --watch never opened a watch" "$(cat "$TMP/watch.out")"
fi

# ---- the server survived all of it ------------------------------------------------------------------
if kill -0 "$SRV_PID" 2>/dev/null && k get --raw /version >/dev/null 2>&1; then
    pass "server still alive"
else
    fail "server died"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
