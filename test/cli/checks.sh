# shellcheck shell=bash
# checks.sh: the counting of the shell tests that need no lab (sourced, not run).
#   check DESC CMD...   runs CMD; counts a pass, or a failure printed as "FAIL: DESC"
#   checks_summary      prints "N passed, M failed"; returns non-zero after a failure
# CHECKS_VERBOSE=1 prints "PASS: DESC" too.
CHECKS_PASSED=0
CHECKS_FAILED=0

check() {
	local d=$1
	shift
	if "$@"; then
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
		[ -z "${CHECKS_VERBOSE:-}" ] || echo "PASS: $d"
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		echo "FAIL: $d"
	fi
}

checks_summary() {
	echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
	[ "$CHECKS_FAILED" = 0 ]
}
