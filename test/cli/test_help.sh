#!/bin/bash
# test_help.sh: the help texts and the manuals list everything the parsers accept. The
# long options are read from the sources' getopt_long tables (agent/*.c for netpold,
# agent/ctl/*.c for netpolctl, each table belonging to the subcommand whose ctl_*_main
# its file defines) and the subcommands from netpolctl's dispatch table; each must
# appear in the matching --help, in the man page and in the README, and every option
# --help shows must be one the parser accepts. Prints "N passed, M failed"; exits
# non-zero on a failure.
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${NPD_BUILD_DIR:-$SRC/build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=checks.sh
. "$SRC/test/cli/checks.sh"
for b in netpold netpolctl; do
	[ -x "$BUILD/$b" ] || { echo "no $b in $BUILD"; exit 1; }
done

# longopts FILE...: the long option names of the getopt_long tables in FILEs.
longopts() {
	grep -ohE '\{"[a-z0-9-]+",[[:space:]]*(no|required|optional)_argument' "$@" |
		sed 's/{"\([^"]*\)".*/\1/' | sort -u
}
# helpopts TEXT: the options a help text lists at the start of a line ("  --name ...").
helpopts() { grep -oE '^ +(-[a-z], )?--[a-z0-9-]+' <<<"$1" | sed 's/.*--/--/' | sort -u; }
# in_man PAGE NAME: the man page has "Fl \-NAME".
in_man() { grep -q -- "Fl \\\\-$2\\b" "$SRC/man/$1"; }
# in_readme WORD: the README mentions WORD as code.
in_readme() { grep -qF -- "$1" "$SRC/README.md"; }

daemon_src=$(grep -l 'getopt_long' "$SRC"/agent/*.c)
help=$("$BUILD/netpold" --help)
opts=$(longopts $daemon_src)
check "netpold's parser has options" test -n "$opts"
for o in $opts; do
	check "netpold --help lists --$o" grep -qE -- "^ +--$o( |$)" <<<"$help"
	check "netpold.8 documents --$o" in_man netpold.8 "$o"
	check "README mentions --$o" in_readme "--$o"
done
for o in $(helpopts "$help"); do
	check "netpold --help shows $o, which the parser accepts" grep -qx -- "${o#--}" <<<"$opts"
done

ctl=$SRC/agent/ctl
help=$("$BUILD/netpolctl" --help)
cmds=$(grep -oE '\{"[a-z-]+", ctl_[a-z_]+_main' "$ctl/netpolctl.c" | sed 's/{"\([^"]*\)", \(.*\)/\1 \2/')
check "netpolctl has subcommands" test -n "$cmds"
while read -r cmd fn; do
	check "netpolctl --help lists $cmd" grep -qE "^ +$cmd " <<<"$help"
	check "netpolctl.8 documents $cmd" grep -q "^\\.It Cm $cmd\$" "$SRC/man/netpolctl.8"
	check "README mentions netpolctl $cmd" in_readme "netpolctl $cmd"
	file=$(grep -l "^$fn(" "$ctl"/*.c)
	check "$fn is defined in one file" test "$(wc -w <<<"$file")" = 1
	sub=$("$BUILD/netpolctl" "$cmd" --help 2>&1)
	check "netpolctl $cmd --help exits 0" "$BUILD/netpolctl" "$cmd" --help >/dev/null 2>&1
	# --help itself is what prints the text.
	for o in $(longopts $file | grep -vx help); do
		check "netpolctl $cmd --help lists --$o" grep -qE -- "(^| )--$o([ ,=]|$)" <<<"$sub"
		check "netpolctl.8 documents $cmd --$o" in_man netpolctl.8 "$o"
	done
done <<<"$cmds"
checks_summary
