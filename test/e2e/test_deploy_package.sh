#!/usr/bin/env bash
# test_deploy_package.sh: the Debian package end to end. scripts/package builds
# netpold_<version>_amd64.deb from a release build; lintian must report no error; then
# the package goes into a fresh Debian 12 chroot (mmdebstrap's "apt" variant, cached by
# scripts/rootfs) with `apt-get install ./netpold_..._amd64.deb`: apt must pull every
# package the .deb depends on and nothing that is not needed by it, the unit, the
# defaults file (a conffile) and the man pages must be where dpkg says, every shared
# library must resolve, and `netpold --version` must run in there. Needs root (chroot)
# and the Debian archive. Prints "N passed, M failed" and the package's Depends line.
set -u

if [[ $(id -u) -ne 0 ]]; then
	echo "SKIP: needs root"
	exit 77
fi
SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export NPD_DEPLOY_DIR=${NPD_DEPLOY_DIR:-$SRC/build-deploy}
TMP=$(mktemp -d /tmp/npd-pkg.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
T0=$(date +%s)
CHECKS_VERBOSE=1
# shellcheck source=../cli/checks.sh
. "$SRC/test/cli/checks.sh"
for t in mmdebstrap lintian dpkg-deb; do
	command -v "$t" >/dev/null || { echo "FAIL: $t missing (scripts/deps)"; exit 1; }
done

out=$("$SRC/scripts/package" 2>&1)
check "scripts/package builds the .deb" test $? = 0
deb=$(sed -n 's/^package: \([^ ]*\) .*/\1/p' <<<"$out")
version=$(grep -o 'project(netpold VERSION [0-9.]*' "$SRC/CMakeLists.txt" | awk '{print $3}')
check "named netpold_${version}_amd64.deb" test "$(basename "${deb:-none}")" = \
	"netpold_${version}_amd64.deb"
[ -f "${deb:-}" ] || { echo "$out"; checks_summary; exit 1; }
depends=$(dpkg-deb -f "$deb" Depends)
echo "depends: $depends"
for lib in libc6 libcurl4 libev4 libip4tc2 libip6tc2 libipset13 libmicrohttpd12 libsystemd0 \
	libyajl2 libyaml-0-2 iptables ipset; do
	check "Depends names $lib" grep -Eq "(^|, )$lib( |,|$)" <<<"$depends"
done
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/sbin/netpold ./usr/bin/netpolctl ./lib/systemd/system/netpold.service \
	./etc/default/netpold ./usr/share/man/man8/netpold.8.gz ./usr/share/man/man8/netpolctl.8.gz \
	./usr/share/doc/netpold/copyright ./usr/share/doc/netpold/changelog.gz; do
	check "the .deb holds $f" grep -qx -- "$f" <<<"$contents"
done

lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'root privileges')
echo "lintian: $(grep -c '^E:' <<<"$lint") errors, $(grep -c '^W:' <<<"$lint") warnings"
[ -z "$lint" ] || printf '%s\n' "$lint"
check "lintian reports no error" test "$(grep -c '^E:' <<<"$lint")" = 0

base=$("$SRC/scripts/rootfs" chroot apt)
check "a Debian 12 chroot from the cache or mmdebstrap" test -s "${base:-/nonexistent}"
root=$TMP/root
mkdir -p "$root"
tar -C "$root" -xf "$base"
cp "$deb" "$root/tmp/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The chroot's /proc and /dev live in a private mount namespace: gone when it exits.
cat >"$root/tmp/inside.sh" <<-'EOF2'
	set -u
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
	dpkg-query -W -f '${Package}\n' | sort >/tmp/before
	apt-get update -qq >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
	apt-get install -y -q "/tmp/$1" >>/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
	dpkg-query -W -f '${Package}\n' | sort >/tmp/after
	comm -13 /tmp/before /tmp/after >/tmp/new
	# What the new packages need: netpold's closure over Depends, Pre-Depends and
	# Recommends (apt installs Recommends by default), alternatives included.
	closure=netpold
	todo=netpold
	while [ -n "$todo" ]; do
		next=
		for p in $todo; do
			for d in $(dpkg-query -W -f '${Depends},${Pre-Depends},${Recommends}\n' "$p" 2>/dev/null |
				tr ',|' '\n\n' | sed 's/([^)]*)//; s/:any//' | awk 'NF {print $1}'); do
				case " $closure " in *" $d "*) ;; *) closure="$closure $d"; next="$next $d" ;; esac
			done
		done
		todo=$next
	done
	printf '%s\n' $closure | sort -u >/tmp/closure
	comm -23 /tmp/new /tmp/closure >/tmp/unneeded
	ldd /usr/sbin/netpold /usr/bin/netpolctl >/tmp/ldd 2>&1
	/usr/sbin/netpold --version >/tmp/version 2>&1
	dpkg-query -W -f '${Conffiles}\n' netpold >/tmp/conffiles
	dpkg -L netpold >/tmp/files
	exit 0
EOF2
unshare --mount --fork sh -c "mount -t proc proc '$root/proc' && mount --rbind /dev '$root/dev' &&
	chroot '$root' sh /tmp/inside.sh '$(basename "$deb")'" >"$TMP/inside.log" 2>&1
rc=$?
check "apt-get install ./$(basename "$deb") in the chroot" test $rc = 0
[ $rc = 0 ] || tail -n 20 "$TMP/inside.log"
echo "pulled in: $(grep -vx netpold "$root/tmp/new" 2>/dev/null | paste -sd' ')"
check "netpold is installed" grep -qx netpold "$root/tmp/new"
for d in $(tr ',' '\n' <<<"$depends" | sed 's/([^)]*)//' | awk 'NF {print $1}'); do
	check "dependency $d is installed" grep -qx "$d" "$root/tmp/after"
done
check "nothing installed that netpold does not need" test ! -s "$root/tmp/unneeded"
[ -s "$root/tmp/unneeded" ] && echo "unneeded: $(paste -sd' ' "$root/tmp/unneeded")"
check "every shared library resolves" test -s "$root/tmp/ldd" -a -z "$(grep 'not found' "$root/tmp/ldd")"
check "netpold --version runs in the chroot" test "$(cat "$root/tmp/version")" = "netpold $version"
check "/etc/default/netpold is a conffile" grep -q '^ /etc/default/netpold ' "$root/tmp/conffiles"
check "dpkg lists the unit" grep -qx /lib/systemd/system/netpold.service "$root/tmp/files"
check "the chroot has the unit and the defaults file" \
	test -f "$root/lib/systemd/system/netpold.service" -a -f "$root/etc/default/netpold"
echo "time: $(($(date +%s) - T0))s"
checks_summary
