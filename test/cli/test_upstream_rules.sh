#!/usr/bin/env bash
# test_upstream_rules.sh: every upstream Netpol case (test/conformance/cases), every step and
# protocol, against the compiled rules of node1 and node2 without a lab: upstream.py offline
# writes the world each step reaches (the topology, its labels and policies) and upstream's
# expected matrix, eval_rules walks the compiled rules. IPv4 and IPv6. The same cases run on
# real packets in test/e2e/test_conformance_upstream.sh; this is their quick, rootless half.
set -u
src=${NPD_SRC_DIR:?NPD_SRC_DIR not set}
eval_rules=${NPD_BUILD_DIR:?NPD_BUILD_DIR not set}/eval_rules
[ -x "$eval_rules" ] || { echo "eval_rules not built: $eval_rules" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
for fam in 4 6; do
	flag=
	[ "$fam" = 6 ] && flag=-6
	python3 "$src/test/e2e/lib/upstream.py" offline $flag "$tmp/v$fam" "$@" >"$tmp/plan$fam" || exit 1
	while IFS=$'\t' read -r verb a b on; do
		case $verb in
		case) slug=$a ok=1 ;;
		check)
			if ! out=$("$eval_rules" "$a" <"$b" 2>&1); then
				echo "FAIL $slug (IPv$fam): eval_rules: $out"
				ok=
				continue
			fi
			bad=$(awk -v on="$on" '$5 != $6 { printf "    %s -> %s %s: want %s, rules say %s\n", $7, $8, on, $6, $5 }' <<<"$out")
			if [ -n "$bad" ]; then
				echo "FAIL $slug (IPv$fam):"
				printf '%s\n' "$bad"
				ok=
			fi
			;;
		end)
			if [ -n "$ok" ]; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
			fi
			;;
		esac
	done <"$tmp/plan$fam"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
