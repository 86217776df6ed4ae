#!/bin/bash
# test_install.sh: `cmake --install` on its own puts everything in its FHS place: netpold
# in sbin, netpolctl in bin, the systemd unit (naming that sbin and that prefix's
# defaults file), the defaults file, both man pages (gzip'd, readable by man) and the
# README; for the prefix /usr the unit is the one in manifests/deploy/ verbatim. The
# installed binaries run and print the project's version. No root: DESTDIR is a temporary
# directory, the prefix /usr in a scratch build of the install rules only. Prints "N
# passed, M failed"; exits non-zero on a failure.
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${NPD_BUILD_DIR:-$SRC/build}
TMP=$(mktemp -d)
# shellcheck source=checks.sh
. "$SRC/test/cli/checks.sh"
trap 'rm -rf "$TMP"' EXIT
[ -x "$BUILD/netpold" ] || { echo "no netpold in $BUILD"; exit 1; }
version=$(grep -o 'project(netpold VERSION [0-9.]*' "$SRC/CMakeLists.txt" | awk '{print $3}')


prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
DESTDIR=$TMP/root cmake --install "$BUILD" >"$TMP/install.log" 2>&1
check "cmake --install exits 0" test $? = 0
r=$TMP/root$prefix
unitdir=$(sed -n 's/^NPD_SYSTEMD_UNITDIR:PATH=//p' "$BUILD/CMakeCache.txt")
check "netpold in sbin" test -x "$r/sbin/netpold"
check "netpolctl in bin" test -x "$r/bin/netpolctl"
check "unit in $unitdir" test -f "$TMP/root$unitdir/netpold.service"
check "the unit starts $prefix/sbin/netpold" \
	grep -q "^ExecStart=$prefix/sbin/netpold \$NETPOLD_OPTS" "$TMP/root$unitdir/netpold.service"
check "defaults file in $prefix/etc/default" test -f "$r/etc/default/netpold"
check "the unit reads $prefix/etc/default/netpold" \
	grep -q "^EnvironmentFile=-$prefix/etc/default/netpold$" "$TMP/root$unitdir/netpold.service"
for m in netpold netpolctl; do
	check "man page $m(8) installed" test -f "$r/share/man/man8/$m.8.gz"
	check "man $m renders the page's NAME" \
		grep -q "^ *$m " <<<"$(MANWIDTH=80 man -l "$r/share/man/man8/$m.8.gz" 2>/dev/null |
			sed -n '/^NAME/,/^SYNOPSIS/p')"
done
check "README in share/doc/netpold" test -f "$r/share/doc/netpold/README.md"
check "installed netpold --version" test "$("$r/sbin/netpold" --version)" = "netpold $version"
check "installed netpolctl --help lists simulate" grep -q simulate <<<"$("$r/bin/netpolctl" --help)"

# For the prefix /usr (the package's) the install rules alone, configured afresh: the unit
# is manifests/deploy/netpold.service unchanged and the defaults file goes to /etc.
mkdir -p "$TMP/usr"
cmake -S "$SRC" -B "$TMP/usr" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null 2>&1
check "configure with the prefix /usr" test $? = 0
cmp -s "$TMP/usr/install/netpold.service" "$SRC/manifests/deploy/netpold.service"
check "prefix /usr: the unit is manifests/deploy/netpold.service" test $? = 0
check "prefix /usr: unit directory /lib/systemd/system" \
	grep -q '^NPD_SYSTEMD_UNITDIR:PATH=/lib/systemd/system$' "$TMP/usr/CMakeCache.txt"
grep -q '/etc/default' "$TMP/usr/cmake_install.cmake"
check "prefix /usr: defaults file under /etc/default" test $? = 0

checks_summary
