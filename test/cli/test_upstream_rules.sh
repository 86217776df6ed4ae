#!/usr/bin/env bash
# test_upstream_rules.sh: every upstream Netpol case (test/conformance/cases), every step and
# protocol, against the compiled rules of node1 and node2 without a lab: upstream.py offline
# writes the world each step reaches (the topology, its labels and policies) and upstream's
# expected matrix, eval_rules walks the compiled rules. IPv4 and IPv6. The same cases run on
# real packets in test/e2e/test_conformance_upstream.sh; this is their quick, rootless half.
# Arguments select cases as there. Prints "N passed, M failed" (one check per case and family).
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
EVAL=${NPD_BUILD_DIR:-$SRC/build}/eval_rules
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=checks.sh
. "$SRC/test/cli/checks.sh"
[ -x "$EVAL" ] || { echo "no eval_rules at $EVAL"; exit 1; }

# agrees WORLD EXPECT ON: eval_rules' verdicts are upstream's, else the differing cells.
agrees() {
	local out bad
	out=$("$EVAL" "$1" <"$2") || return 1
	bad=$(awk -v on="$3" '$5 != $6 { printf "    %s -> %s %s: want %s, rules say %s\n", $7, $8, on, $6, $5 }' <<<"$out")
	[ -z "$bad" ] || { printf '%s\n' "$bad"; return 1; }
}

# case_checks PLAN: every case of an offline plan, counted once.
case_checks() {
	local verb a b on slug ok fam=$2
	while IFS=$'\t' read -r verb a b on; do
		case $verb in
		case) slug=$a ok=true ;;
		check) agrees "$a" "$b" "$on" || ok=false ;;
		end) check "$slug (IPv$fam)" "$ok" ;;
		esac
	done <"$1"
}

for fam in 4 6; do
	flag=()
	[ "$fam" = 6 ] && flag=(-6)
	if python3 "$SRC/test/e2e/lib/upstream.py" offline "${flag[@]}" "$TMP/v$fam" "$@" >"$TMP/plan$fam"; then
		case_checks "$TMP/plan$fam" "$fam"
	else
		check "the cases load (IPv$fam)" false
	fi
done
checks_summary
