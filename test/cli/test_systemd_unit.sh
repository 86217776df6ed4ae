#!/bin/bash
# test_systemd_unit.sh: manifests/deploy/netpold.service as systemd sees it, without
# running it: `systemd-analyze verify` must print nothing (the unit pointed at the built
# netpold, its man pages on MANPATH so Documentation= resolves), `systemd-analyze
# security --offline=yes` must rate its exposure 3.0 or lower (the score is printed), and
# the directives the agent relies on must be there: Type=notify, a watchdog, the defaults
# file, exactly CAP_NET_ADMIN and CAP_NET_RAW, netlink among the address families. Also
# lints both man pages with mandoc. Prints "N passed, M failed"; exits non-zero on a
# failure.
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NPD=${NPD_BUILD_DIR:-$SRC/build}/netpold
UNIT=$SRC/manifests/deploy/netpold.service
TMP=$(mktemp -d)
# shellcheck source=checks.sh
. "$SRC/test/cli/checks.sh"
trap 'rm -rf "$TMP"' EXIT
[ -x "$NPD" ] || { echo "no netpold at $NPD"; exit 1; }
for t in systemd-analyze mandoc man; do
	command -v "$t" >/dev/null || { echo "FAIL: $t not installed (scripts/deps)"; exit 1; }
done


# directive KEY: the values of KEY= in the unit, one per line.
directive() { sed -n "s/^$1=//p" "$UNIT"; }

mkdir -p "$TMP/man/man8"
cp "$SRC/man/netpold.8" "$SRC/man/netpolctl.8" "$TMP/man/man8/"
sed "s#^ExecStart=/usr/sbin/netpold #ExecStart=$NPD #" "$UNIT" >"$TMP/netpold.service"
check "the unit starts /usr/sbin/netpold" grep -q '^ExecStart=/usr/sbin/netpold ' "$UNIT"
out=$(cd "$TMP" && MANPATH=$TMP/man systemd-analyze verify "$TMP/netpold.service" 2>&1)
rc=$?
check "systemd-analyze verify exits 0" test "$rc" = 0
check "systemd-analyze verify prints nothing" test -z "$out"
[ -z "$out" ] || printf '%s\n' "$out"

sec=$(systemd-analyze security --offline=yes "$TMP/netpold.service" 2>&1)
score=$(sed -n 's/.*Overall exposure level for netpold.service: \([0-9.]*\).*/\1/p' <<<"$sec")
echo "systemd-analyze security exposure: ${score:-none} (of 10; 3.0 or lower wanted)"
check "security exposure is a number" test -n "$score"
check "security exposure <= 3.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s > 3.0) }' && grep '✗' <<<"$sec"

check "Type=notify" test "$(directive Type)" = notify
check "NotifyAccess=main" test "$(directive NotifyAccess)" = main
check "WatchdogSec set" grep -Eq '^WatchdogSec=[1-9]' "$UNIT"
check "EnvironmentFile=-/etc/default/netpold" \
	test "$(directive EnvironmentFile)" = -/etc/default/netpold
check "ExecStart passes \$NETPOLD_OPTS" grep -q '^ExecStart=.* \$NETPOLD_OPTS$' "$UNIT"
check "capability bounding set is NET_ADMIN and NET_RAW" \
	test "$(directive CapabilityBoundingSet | tr ' ' '\n' | sort | xargs)" = \
	"CAP_NET_ADMIN CAP_NET_RAW"
check "ambient capabilities within the bounding set" \
	test "$(directive AmbientCapabilities | tr ' ' '\n' | sort | xargs)" = \
	"CAP_NET_ADMIN CAP_NET_RAW"
for d in NoNewPrivileges ProtectHome PrivateTmp PrivateDevices ProtectKernelTunables \
	ProtectKernelModules ProtectKernelLogs ProtectControlGroups LockPersonality \
	MemoryDenyWriteExecute RestrictNamespaces RestrictSUIDSGID RestrictRealtime; do
	check "$d=yes" test "$(directive "$d")" = yes
done
check "ProtectSystem=strict" test "$(directive ProtectSystem)" = strict
check "RestrictAddressFamilies includes AF_NETLINK" \
	grep -Eq '^RestrictAddressFamilies=.*\bAF_NETLINK\b' "$UNIT"
check "a SystemCallFilter allow list" grep -q '^SystemCallFilter=@system-service' "$UNIT"
# The defaults file sets only NETPOLD_OPTS, with flags netpold accepts.
opts=$(sed -n 's/^NETPOLD_OPTS="\(.*\)"$/\1/p' "$SRC/manifests/deploy/netpold.default")
check "netpold.default sets NETPOLD_OPTS" test -n "$opts"
for f in $opts; do
	case $f in --*) check "netpold --help lists $f" grep -q -- "^  ${f%%=*} " \
		<<<"$("$NPD" --help)" ;; esac
done

# Every level down to STYLE, except the look-up of cross references in the host's
# manual database, which knows neither page before they are installed.
for m in netpold.8 netpolctl.8; do
	mandoc -T lint -W warning "$SRC/man/$m" >/dev/null 2>&1
	check "mandoc -T lint -W warning $m exits 0" test $? = 0
	lint=$(mandoc -T lint -W style "$SRC/man/$m" 2>&1 | grep -F "$m:" |
		grep -v 'referenced manual not found')
	check "mandoc -T lint $m reports nothing" test -z "$lint"
	[ -z "$lint" ] || printf '%s\n' "$lint"
done

checks_summary
