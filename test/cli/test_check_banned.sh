#!/usr/bin/env bash
# test_check_banned.sh: scripts/check-banned finds banned calls with their file:line and
# nothing else. A planted tree has one banned call of each kind next to look-alikes that
# are fine (the npd_x wrappers, snprintf, strtok_r, a member named system, the words in
# comments and strings, raw allocation in lib/mem.c); then the repository itself must be
# clean. Prints "N passed, M failed".
set -u
SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/test/cli/checks.sh"
CHECKS_VERBOSE=1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/t/lib/backend" "$TMP/t/agent/ctl" "$TMP/t/include/npd"

cat >"$TMP/t/lib/a.c" <<'C'
/* sprintf( in a comment,
 * strcpy( on a continuation line */
static void f(char *b) { vsprintf(b, "x", 0); }
static void g(char *b) { npd_xmalloc(3); snprintf(b, 1, "sprintf(%s", "atoi("); }
int h(void) { return atoi("1") + (strtok_r(0, 0, 0) != 0) + o->system(1); }
// malloc( in a line comment
char c = '(';
int k(void) { return rand (); }
C
printf 'int x(void) { return system ("ls"); }\n' >"$TMP/t/agent/ctl/b.c"
printf 'static inline char *d(const char *s) { return strdup(s); }\n' >"$TMP/t/include/npd/c.h"
printf 'void *m(size_t n) { return malloc(n); }\n' >"$TMP/t/lib/mem.c"
printf 'void s(char *d) { strcat(d, "x"); }\n' >"$TMP/t/lib/backend/e.c"

"$SRC/scripts/check-banned" "$TMP/t" >"$TMP/out" 2>&1
rc=$?
check "a tree with banned calls fails (exit 1)" [ "$rc" -eq 1 ]
got=$(cut -d: -f1-3 "$TMP/out")
want="agent/ctl/b.c:1: system()
include/npd/c.h:1: strdup()
lib/a.c:3: vsprintf()
lib/a.c:5: atoi()
lib/a.c:8: rand()
lib/backend/e.c:1: strcat()"
check "exactly the banned calls, by file:line (got: $(echo $got))" [ "$got" = "$want" ]
check "each line says why" [ "$(grep -c ': .*(): [a-z]' "$TMP/out")" -eq 6 ]

"$SRC/scripts/check-banned" "$SRC" >"$TMP/repo" 2>&1
rc=$?
check "the repository is clean ($(head -c 300 "$TMP/repo"))" test "$rc" -eq 0 -a ! -s "$TMP/repo"
checks_summary
