#!/bin/bash
# test_golden.sh: renders every test/golden/<case>.yaml for node1 and diffs the output
# against test/golden/<case>.node1.expected. A difference is a dataplane change: review it,
# then run scripts/golden-update to accept it.
set -u
src=${NPD_SRC_DIR:?NPD_SRC_DIR not set}
ctl=${NPD_BUILD_DIR:?NPD_BUILD_DIR not set}/netpolctl
[ -x "$ctl" ] || { echo "netpolctl not built: $ctl" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
for input in "$src"/test/golden/*.yaml; do
	name=$(basename "$input" .yaml)
	expected=$src/test/golden/$name.node1.expected
	if [ ! -f "$expected" ]; then
		echo "FAIL $name: no $expected (run scripts/golden-update)"
		failed=$((failed + 1))
		continue
	fi
	if ! "$ctl" render -f "$input" --node node1 >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		echo "FAIL $name: netpolctl render exited non-zero"
		cat "$tmp/$name.err"
		failed=$((failed + 1))
	elif ! diff -u "$expected" "$tmp/$name.out"; then
		echo "FAIL $name: render differs from $expected"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
