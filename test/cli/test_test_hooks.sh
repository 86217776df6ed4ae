#!/usr/bin/env bash
# test_test_hooks.sh: the test-only hooks are in a test build and nowhere else. A build
# configured with -DNPD_TEST_HOOKS=OFF (the release configuration) must refuse
# `--backend fake`, not list it in --help, and carry none of the hook variables' names in
# its binary; a test build (ON, what scripts/build makes) must offer all of them. ctest
# passes the tree's setting in $NPD_TEST_HOOKS. Prints "N passed, M failed".
set -u
SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${NPD_BUILD_DIR:-$SRC/build}
NPD=$BUILD/netpold
[ -x "$NPD" ] || { echo "no netpold at $NPD"; exit 1; }
case ${NPD_TEST_HOOKS:-} in
ON | OFF) ;;
*) echo "NPD_TEST_HOOKS must be ON or OFF (ctest sets it), not '${NPD_TEST_HOOKS:-}'"; exit 1 ;;
esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/test/cli/checks.sh"
CHECKS_VERBOSE=1
exits() { # STATUS CMD...: CMD exits with STATUS
	local want=$1 rc
	shift
	"$@" >"$TMP/out" 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] || { echo "  exit $rc, want $want: $(head -c 300 "$TMP/out")"; return 1; }
}
help_lists_fake() { "$NPD" --help | grep -q -- '--backend NAME .*fake'; }
not() { ! "$@"; }
# The names are string literals only where the hooks are compiled in.
binary_has() { grep -a -q -F "$1" "$NPD"; }

hooks=(NPD_FAKE_FAIL_COMMITS NPD_K8S_WATCH_TIMEOUT_RANGE NPD_SA_DIR)
if [ "$NPD_TEST_HOOKS" = OFF ]; then
	check "--backend fake is a usage error (exit 2)" exits 2 "$NPD" --cleanup --backend fake
	check "the refusal names the option" grep -q "invalid --backend 'fake'" "$TMP/out"
	check "--help does not offer fake" not help_lists_fake
	for h in "${hooks[@]}"; do
		check "the binary does not read \$$h" not binary_has "$h"
	done
else
	check "--backend fake runs (cleanup on the fake backend exits 0)" \
		exits 0 "$NPD" --cleanup --backend fake
	check "--help offers fake" help_lists_fake
	for h in "${hooks[@]}"; do
		check "the binary reads \$$h" binary_has "$h"
	done
fi
checks_summary
