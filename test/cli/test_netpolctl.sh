#!/bin/bash
# test_netpolctl.sh: netpolctl simulate and lint on the example manifests. Asserts the four
# criteria of the AKS scenario cell by cell from the TSV matrix, what the one-dash variant
# breaks, the other examples' expected verdicts, exit codes (0 allowed / 1 denied / 2 input
# error) and the lint findings. Prints "N passed, M failed"; exits non-zero on a failure.
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NPC=${NPD_BUILD_DIR:-$SRC/build}/netpolctl
EX=$SRC/manifests/examples
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -x "$NPC" ] || { echo "no netpolctl at $NPC"; exit 77; }

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# check DESCRIPTION EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: expected '$2', got '$3'"; fi
}

# matrix NAME FILE [ARGS...]: writes the TSV matrix to $TMP/NAME.tsv.
matrix() {
	local name=$1 file=$2
	shift 2
	"$NPC" simulate -f "$EX/$file" --matrix --format tsv "$@" >"$TMP/$name.tsv" \
		2>"$TMP/$name.err"
	check "$name matrix exit status" 0 $?
}

# cell NAME FROM TO PORT PROTO: the verdict of one TSV line (FROM is a name, or an IP for
# rows of --from-ip), "missing" when absent.
cell() {
	awk -F'\t' -v f="$2" -v t="$3" -v p="$4" -v pr="$5" '
		($1 == f || ($1 == "-" && $2 == f)) && $3 == t && $5 == p && $6 == pr {
			print $7; found = 1 }
		END { if (!found) print "missing" }' "$TMP/$1.tsv"
}

# expect NAME FROM TO PORT PROTO VERDICT
expect() {
	check "$1: $2 -> $3 $4/$5" "$6" "$(cell "$1" "$2" "$3" "$4" "$5")"
}

VM=192.168.254.100
DB=backend/dbpod
API=frontend/apipod
APP=frontend/apppod
TOOL=frontend/toolpod
DNS=kube-system/coredns
PODS="$DB $API $APP $TOOL $DNS"

# --- AKS: the four criteria ---
matrix aks aks-frontend-backend-db.yaml --port 80/tcp --port 53/udp --from-ip $VM
check "aks: no decode warnings" "" "$(cat "$TMP/aks.err")"
check "aks: rows x columns on two ports (header + 2 * (5*4 + 5))" 51 "$(wc -l <"$TMP/aks.tsv")"
# 1. dbpod receives ingress only from apipod.
for from in $API $APP $TOOL $DNS $VM; do
	want=deny
	[ "$from" = $API ] && want=allow
	expect aks "$from" $DB 80 TCP $want
done
expect aks $API $DB 53 UDP deny # port 80 only
# 2. no egress from dbpod.
for to in $API $APP $TOOL $DNS; do
	expect aks $DB "$to" 80 TCP deny
	expect aks $DB "$to" 53 UDP deny
done
# 3. apipod and apppod receive from anywhere within the VNET (pods and the test VM).
for to in $API $APP; do
	for from in $TOOL $DNS $VM; do
		expect aks "$from" "$to" 80 TCP allow
	done
done
# 4. apppod only to apipod, apipod only to the backend namespace; both keep DNS.
expect aks $APP $API 80 TCP allow
for to in $DB $TOOL $DNS; do expect aks $APP "$to" 80 TCP deny; done
expect aks $API $DB 80 TCP allow
for to in $APP $TOOL $DNS; do expect aks $API "$to" 80 TCP deny; done
expect aks $API $DNS 53 UDP allow
expect aks $APP $DNS 53 UDP allow
# Unisolated pods stay open.
expect aks $TOOL $DNS 80 TCP allow
expect aks $VM $TOOL 80 TCP allow

# The one-dash variant: any frontend pod reaches db.
matrix dash aks-one-dash.yaml --from-ip $VM
expect dash $TOOL $DB 80 TCP allow
expect dash $API $DB 80 TCP allow
expect dash $APP $DB 80 TCP deny # stopped by apppod's own egress policy
expect dash $DNS $DB 80 TCP deny
expect dash $VM $DB 80 TCP deny
check "one-dash: the 80/TCP matrices differ in exactly one cell" 1 \
	"$(diff <(grep $'\t80\tTCP\t' "$TMP/aks.tsv") <(grep $'\t80\tTCP\t' "$TMP/dash.tsv") |
		grep -c '^>')"

# --- simulate: single queries and exit codes ---
run() { "$NPC" simulate "$@" >"$TMP/out" 2>"$TMP/err"; echo $?; }
F=$EX/aks-frontend-backend-db.yaml
check "allowed exits 0" 0 "$(run -f "$F" --from $API --to $DB --port 80)"
grep -q '^ALLOWED frontend/apipod (10.244.1.10) -> backend/dbpod' "$TMP/out" && ok ||
	bad "allowed verdict line: $(cat "$TMP/out")"
grep -q 'allowed by backend/db-policy ingress rule 0' "$TMP/out" && ok ||
	bad "allowed names the admitting policy and rule"
check "denied exits 1" 1 "$(run -f "$F" --from $APP --to $DB --port 80)"
grep -q '^DENIED' "$TMP/out" && ok || bad "denied verdict line"
grep -q 'isolated for Ingress by backend/db-policy; denied' "$TMP/out" && ok ||
	bad "denied names the isolating policy"
check "IP source resolves to its pod" 0 "$(run -f "$F" --from 10.244.1.10 --to $DB --port 80/TCP)"
grep -q 'frontend/apipod (10.244.1.10)' "$TMP/out" && ok || bad "IP resolved to apipod"
check "VM to db denied" 1 "$(run -f "$F" --from $VM --to $DB --port 80)"
grep -q 'not a pod' "$TMP/out" && ok || bad "external source explained"
check "udp proto parsed" 0 "$(run -f "$F" --from $APP --to $DNS --port 53/udp)"
check "sctp denied by api egress" 1 "$(run -f "$F" --from $API --to $DNS --port 53/sctp)"
check "unknown pod exits 2" 2 "$(run -f "$F" --from frontend/nope --to $DB --port 80)"
check "bad path exits 2" 2 "$(run -f "$TMP/nonexistent.yaml" --from $API --to $DB --port 80)"
check "bad port exits 2" 2 "$(run -f "$F" --from $API --to $DB --port 80/icmp)"
check "missing --to exits 2" 2 "$(run -f "$F" --from $API --port 80)"
check "directory input" 0 "$(run -f "$EX" --from $API --to $DB --port 80)"
check "table matrix exits 0" 0 "$(run -f "$F" --matrix --from-ip $VM)"
grep -q '^  \* ip 192.168.254.100 *--  *ok  *ok  *ok  *ok$' "$TMP/out" && ok ||
	bad "table row of the VM: $(grep 'ip 192' "$TMP/out")"

# --- the other examples ---
matrix dd default-deny-dns.yaml --port 80/tcp --port 53/udp --port 443/tcp
expect dd prod-nginx/debug prod-nginx/nginx-1 80 TCP allow
expect dd prod-nginx/debug prod-nginx/nginx-2 443 TCP deny
expect dd prod-nginx/debug $DNS 53 UDP allow
expect dd prod-nginx/nginx-1 $DNS 53 UDP allow
expect dd prod-nginx/nginx-1 prod-nginx/nginx-2 80 TCP deny
expect dd prod-nginx/nginx-1 prod-nginx/debug 80 TCP deny
expect dd $DNS prod-nginx/nginx-1 80 TCP deny
matrix ddo default-deny-only.yaml --port 53/udp
expect ddo prod-nginx/debug $DNS 53 UDP deny
matrix xns cross-namespace.yaml
for to in prod-nginx/nginx-1 prod-nginx/nginx-2; do
	expect xns myhackns/othernspod $to 80 TCP allow
	expect xns myhackns/plainpod $to 80 TCP deny
	expect xns otherns/strangerpod $to 80 TCP deny
	expect xns prod-nginx/debug $to 80 TCP deny
done
matrix db db-3306-6379.yaml --port 3306 --port 6379 --port 80 --port 8080
expect db myapp/backend database/mysql 3306 TCP allow
expect db myapp/backend database/redis 6379 TCP allow
expect db myapp/php database/mysql 3306 TCP allow
expect db myapp/php database/redis 6379 TCP deny
expect db myapp/web database/mysql 3306 TCP deny
expect db myapp/backend database/mysql 6379 TCP deny
expect db myapp/backend myapp/web 80 TCP deny
expect db myapp/web myapp/backend 8080 TCP allow
matrix ds4 dual-stack.yaml --port 80 --port 8080
matrix ds6 dual-stack.yaml --family 6 --port 80 --port 8080
for m in ds4 ds6; do
	expect $m ds/client ds/web 80 TCP allow
	expect $m ds/other ds/web 80 TCP deny
	expect $m ds/other ds/web 8080 TCP deny
done
expect ds4 ds/client ds/web 8080 TCP deny
expect ds6 ds/client ds/web 8080 TCP allow
grep -q 'fd00:244:2::51	ds/web	fd00:244:1::50' "$TMP/ds6.tsv" && ok || bad "v6 matrix carries v6 IPs"

# --- lint ---
lint() { "$NPC" lint -f "$EX/$1" >"$TMP/lint" 2>"$TMP/lint.err"; echo $?; }
check "lint aks clean: exit" 0 "$(lint aks-frontend-backend-db.yaml)"
check "lint aks clean: output" "" "$(cat "$TMP/lint")"
check "lint one-dash: exit" 1 "$(lint aks-one-dash.yaml)"
grep -q '^WARN backend/db-policy spec.ingress\[0\].from: .*an OR.*; hint: .*ONE entry' \
	"$TMP/lint" && ok || bad "one-dash warning: $(cat "$TMP/lint")"
check "lint default-deny-only: exit" 1 "$(lint default-deny-only.yaml)"
grep -q '^WARN prod-nginx/default-deny spec.policyTypes: .*DNS.*; hint: .*kube-dns' \
	"$TMP/lint" && ok || bad "DNS warning: $(cat "$TMP/lint")"
for f in default-deny-dns.yaml cross-namespace.yaml db-3306-6379.yaml dual-stack.yaml; do
	check "lint $f clean" "0:" "$(lint $f):$(cat "$TMP/lint")"
done
check "lint bad path exits 2" 2 "$("$NPC" lint -f "$TMP/nope" 2>/dev/null >&2; echo $?)"
check "lint usage exits 2" 2 "$("$NPC" lint 2>/dev/null; echo $?)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
