# shellcheck shell=bash
# agentenv.sh: the start of the agent tests that run netpold in a network namespace of
# their own, without the lab: they need root (a skip, exit 77, otherwise) and find the
# source tree and the build directory from NPD_SRC_DIR / NPD_BUILD_DIR.
#
#   . "$(dirname "$0")/lib/agentenv.sh"
#   agentenv_init                     # exit 77 unless root; sets SRC and BUILD

# agentenv_init: exit 77 (ctest skip) unless root; SRC is NPD_SRC_DIR or the tree this
# library is in, BUILD is NPD_BUILD_DIR or $SRC/build.
agentenv_init() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "SKIP: needs root"
		exit 77
	fi
	SRC=${NPD_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
	# shellcheck disable=SC2034 # read by the calling test
	BUILD=${NPD_BUILD_DIR:-$SRC/build}
}
