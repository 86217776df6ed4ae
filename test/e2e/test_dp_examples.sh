#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_examples.sh: every example of manifests/examples/ on the 2-node lab
# with real packets. For each example: a lab pod per manifest pod (its node,
# its addresses, serving every port of the scenario over TCP and UDP),
# netpold on node1 and node2 (legacy backend) loading the example, then the
# full matrix -- every pod and the outside vm to every other pod, on every
# port, same-node (bridged) and cross-node (routed), v4 and (when the example
# has v6 addresses) v6 -- must equal `netpolctl simulate` exactly. The AKS
# example is also checked against its write-up (the four criteria), which
# does not depend on the simulator. Afterwards netpold stops (SIGTERM),
# `netpold --cleanup` leaves no NPD- chain or npd- set, and the pods go.
#
# DP_EXAMPLES="a.yaml b.yaml" limits the run. Needs root. Prints
# "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

scn_setup_lab

# shellcheck disable=SC2206
EXAMPLES=(${DP_EXAMPLES:-"$NPD_SRC_DIR"/manifests/examples/*.yaml})

# Pairs by kind, for the record: same-node vs cross-node, allowed vs denied.
describe() { # TABLE EXPECT
	awk 'NR == FNR { if ($1 !~ /^#/) { node[$5] = $4; node[$6] = $4; lab[$1] = $4 } next }
		$1 !~ /^#/ {
			kind = $1 == "vm" ? "from-vm" : (lab[$1] == node[$2] ? "same-node" : "cross-node")
			n[kind " " $5]++
		}
		END { for (k in n) printf "%s=%d ", k, n[k]; print "" }' "$1" "$2"
}

for f in "${EXAMPLES[@]}"; do
	name=$(basename "$f" .yaml)
	t=$(scn_now)
	echo "=== $name"
	dir=$SCN_DIR/m-$name
	mkdir -p "$dir" && cp "$f" "$dir/"
	table=$SCN_DIR/$name.pods
	scn_pods_table "$dir" >"$table"
	if ! lab_check "$name: lab pods up ($(grep -vc '^#' "$table") pods, ports $(scn_ports "$table" | tr '\n' ' '))" \
		scn_pods_up "$table"; then
		scn_pods_down "$table"
		continue
	fi
	fams=()
	for fam in 4 6; do
		col=$((fam == 6 ? 6 : 5))
		if [[ -n $(awk -v c=$col '$1 !~ /^#/ && $c != "-"' "$table") ]]; then
			if lab_check "$name: netpolctl simulate gives the v$fam matrix" \
				scn_expect "$dir" "$table" "$fam" "$SCN_DIR/$name.v$fam.exp"; then
				fams+=("$fam")
				echo "     v$fam: $(describe "$table" "$SCN_DIR/$name.v$fam.exp")"
			fi
		fi
	done
	if ! lab_check "$name: netpold ready on node1 and node2" scn_agents_up "$dir"; then
		scn_dump node1
		scn_dump node2
		scn_agents_down
		scn_pods_down "$table"
		continue
	fi
	bad=0
	for fam in "${fams[@]}"; do
		lab_check_matrix "$SCN_DIR/$name.v$fam.exp" || bad=1
	done
	if [[ $name == aks-frontend-backend-db ]]; then
		scn_aks_writeup "$SCN_DIR/aks.writeup.exp"
		lab_check_matrix "$SCN_DIR/aks.writeup.exp" || bad=1
	fi
	if ((bad)); then
		scn_dump node1
		scn_dump node2
	fi
	lab_check "$name: netpold stops on SIGTERM and --cleanup succeeds" scn_agents_down
	lab_check "$name: nothing of netpold left on the nodes" scn_no_npd_left node1 node2
	lab_check "$name: lab pods deleted" scn_pods_down "$table"
	echo "     ($name: $(scn_since "$t")s)"
done

echo "time: total $(scn_since "$T0")s"
lab_summary
