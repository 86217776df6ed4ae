#!/usr/bin/env bash
# shellcheck disable=SC2016
# test_dp_second_writer.sh: another writer on the same filter table, as kube-proxy is.
# The AKS example on the 2-node lab, netpold on both nodes reading a manifest directory.
# For the legacy backend (iptables-legacy-restore) and then the nft one
# (iptables-nft-restore), on node2 (dbpod's node) a kube-proxy-like writer appends its
# own jump to FORWARD once, then every 50 ms for WRITER_S (30) seconds commits its own
# chains (KUBE-FWD-TEST and KUBE-SVC-TEST, 21 rules stamped with a generation) with
# `restore --noflush`, while netpold applies pod churn (a pod file relabelled and
# re-added every 0.3 s) and policy churn (an extra policy file added and removed).
# Afterwards:
#   - every writer commit succeeded and the last generation's 21 rules are all there,
#     its FORWARD jump too (none of its rules lost);
#   - netpold's hook is still the first rule of FORWARD;
#   - every netpold sync landed (syncs_total{result="error"} 0, no drift repaired),
#     and the matrix on real packets equals `netpolctl simulate` of the directory;
#   - the commit redos netpold counted (netpold_commit_redos_total) are printed.
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/scenario.sh
. "$HERE/lib/scenario.sh"

WRITER_S=${WRITER_S:-30}
scn_setup_common aks-frontend-backend-db.yaml "lab pods of the AKS example up"
EXTRA=$SCN_DIR/extra-policy.yaml
cat >"$EXTRA" <<-EOF
	apiVersion: networking.k8s.io/v1
	kind: NetworkPolicy
	metadata:
	  name: churn-extra
	  namespace: backend
	spec:
	  podSelector:
	    matchLabels:
	      app: db
	  ingress:
	  - from:
	    - podSelector:
	        matchLabels:
	          app: churn
	    ports:
	    - port: 5432
EOF

# The writer: its commits are counted in $1.ok / $1.fail, its last generation in $1.gen.
WRITER=$SCN_DIR/writer.sh
cat >"$WRITER" <<-'EOF'
	restore=$1 out=$2 dur=$3
	ok=0 fail=0 gen=0
	printf '*filter\n:KUBE-FWD-TEST - [0:0]\n-A FORWARD -m comment --comment "kube-test forwarding rules" -j KUBE-FWD-TEST\nCOMMIT\n' |
		"$restore" --noflush -w 5 || fail=$((fail + 1))
	end=$((SECONDS + dur))
	while ((SECONDS < end)); do
		gen=$((gen + 1))
		text=$(
			echo '*filter'
			echo ':KUBE-FWD-TEST - [0:0]'
			echo ':KUBE-SVC-TEST - [0:0]'
			echo "-A KUBE-FWD-TEST -m comment --comment \"gen $gen\" -j KUBE-SVC-TEST"
			for i in $(seq 1 20); do
				echo "-A KUBE-SVC-TEST -d 10.96.0.$i/32 -p tcp --dport 80 -m comment --comment \"gen $gen\" -j RETURN"
			done
			echo COMMIT
		)
		if "$restore" --noflush -w 5 <<<"$text"; then ok=$((ok + 1)); else fail=$((fail + 1)); fi
		echo "$gen" >"$out.gen"
		sleep 0.05
	done
	echo "$ok" >"$out.ok"
	echo "$fail" >"$out.fail"
EOF

pod_file() { # NAME LABEL: a pod of frontend on node1 at 10.244.1.40+
	local f=$MAN/churn-$1.yaml
	cat >"$f.tmp" <<-EOF
		apiVersion: v1
		kind: Pod
		metadata: {name: $1, namespace: frontend, labels: {app: $2}}
		spec: {nodeName: node1}
		status: {phase: Running, podIP: $3, podIPs: [{ip: $3}]}
	EOF
	mv "$f.tmp" "$f"
}

churn() { # SECONDS: pod and policy churn through the manifest directory
	local end=$((SECONDS + $1)) i=0
	while ((SECONDS < end)); do
		i=$((i + 1))
		pod_file churn-a "$( ((i % 2)) && echo churn || echo api)" 10.244.1.40
		if ((i % 3 == 0)); then
			rm -f "$MAN/churn-b.yaml"
		else
			pod_file churn-b churn 10.244.1.41
		fi
		if ((i % 5 == 0)); then
			cp "$EXTRA" "$MAN/churn-extra.yaml.tmp" && mv "$MAN/churn-extra.yaml.tmp" "$MAN/churn-extra.yaml"
		elif ((i % 5 == 2)); then
			rm -f "$MAN/churn-extra.yaml"
		fi
		sleep 0.3
	done
	rm -f "$MAN"/churn-*.yaml
}

syncs() { scn_metric node2 "netpold_syncs_total{result=\"$1\"}"; }
redos() {
	echo "$(scn_metric node2 'netpold_commit_redos_total{family="ipv4"}') $(scn_metric node2 'netpold_commit_redos_total{family="ipv6"}')"
}

for variant in legacy nft; do
	echo "== $variant: a second writer (iptables-$variant-restore) every 50 ms for ${WRITER_S}s"
	save=iptables-$variant-save
	restore=iptables-$variant-restore
	if ! command -v "$restore" >/dev/null; then
		lab_check "$restore installed" false
		continue
	fi
	if ! lab_check "$variant: netpold ready on node1 and node2" scn_agents_up "$MAN" --backend "$variant"; then
		scn_dump node2
		continue
	fi
	ok0=$(syncs ok) err0=$(syncs error)
	wout=$SCN_DIR/writer-$variant
	wpid=$(lab_spawn node2 "$SCN_DIR/writer-$variant.log" bash "$WRITER" "$restore" "$wout" "$WRITER_S")
	churn "$WRITER_S"
	while kill -0 "$wpid" 2>/dev/null; do sleep 0.2; done
	gen=$(cat "$wout.gen" 2>/dev/null || echo 0)
	ok=$(cat "$wout.ok" 2>/dev/null || echo 0)
	fail=$(cat "$wout.fail" 2>/dev/null || echo -1)
	lab_check "$variant: the writer committed $ok times, none failed ($fail)" \
		eval '[[ $fail == 0 ]] && ((ok >= 100 && ok == gen))'
	# Churn is over: the last change syncs within the debounce.
	sleep 2
	lab_exec node2 "$save" -t filter >"$SCN_DIR/save-$variant"
	n=$(grep -c -- "--comment \"\\?gen $gen\"\\? " "$SCN_DIR/save-$variant")
	lab_check "$variant: the writer's 21 rules of generation $gen are all there ($n)" test "$n" = 21
	lab_check "$variant: the writer's FORWARD jump is there" \
		grep -q -- '-A FORWARD .*-j KUBE-FWD-TEST' "$SCN_DIR/save-$variant"
	first=$(grep -- '^-A FORWARD ' "$SCN_DIR/save-$variant" | head -n1)
	lab_check "$variant: netpold's hook is first in FORWARD ($first)" \
		eval '[[ $first == "-A FORWARD -j NPD-FORWARD" ]]'
	ok1=$(syncs ok) err1=$(syncs error)
	lab_check "$variant: every sync landed ($((ok1 - ok0)) ok, $((err1 - err0)) failed)" \
		eval '((ok1 - ok0 >= 20 && err1 == err0))'
	drift=$(grep -c 'msg="drift' "$SCN_DIR/netpold-node2.log")
	lab_check "$variant: no drift to repair in netpold's log ($drift)" test "$drift" = 0
	echo "     $variant: writer commits $ok, netpold syncs $((ok1 - ok0)), commit redos (v4 v6) $(redos)"
	scn_pods_table "$MAN" >"$TABLE"
	if lab_check "$variant: simulate the directory" scn_expect "$MAN" "$TABLE" 4 "$SCN_DIR/final.exp"; then
		scn_matrix_eventually "$SCN_DIR/final.exp" 10 || scn_dump node2
	fi
	lab_check "$variant: netpold stops on SIGTERM" eval 'scn_agent_stop node1 && scn_agent_stop node2'
	for n in node1 node2; do
		lab_check "$variant: netpold --cleanup --backend $variant on $n" \
			lab_exec "$n" "$SCN_NETPOLD" --cleanup --backend "$variant"
	done
	lab_exec node2 "$save" -t filter >"$SCN_DIR/save-$variant-after"
	lab_check "$variant: the writer's chains survive netpold's cleanup" \
		grep -q -- "gen $gen" "$SCN_DIR/save-$variant-after"
	printf '*filter\n-D FORWARD -m comment --comment "kube-test forwarding rules" -j KUBE-FWD-TEST\n-F KUBE-FWD-TEST\n-X KUBE-FWD-TEST\n-F KUBE-SVC-TEST\n-X KUBE-SVC-TEST\nCOMMIT\n' |
		lab_exec node2 "$restore" --noflush -w 5
	: >"$SCN_DIR/netpold-node2.log"
done
lab_check "netpold --cleanup leaves nothing" scn_no_npd_left node1 node2
echo "time: $(scn_since "$T0")s"
lab_summary
