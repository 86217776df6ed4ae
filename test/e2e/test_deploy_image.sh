#!/usr/bin/env bash
# test_deploy_image.sh: the container image from scripts/image enforces policy in the lab.
#
# netpold:<version> runs under podman inside node1's and node2's network namespaces
# (--network ns:...), the way the DaemonSet runs it: uid 0 but every capability dropped
# except NET_ADMIN and NET_RAW, no-new-privileges, not privileged, a read-only root
# filesystem, the host's /run/xtables.lock mounted. node1 finds the test API server as a
# pod would (KUBERNETES_SERVICE_HOST/PORT and a service-account directory with token and
# ca.crt); node2 through a kubeconfig. The AKS frontend/backend/db scenario (seed 000) is
# created through the API and checked on real packets, then a policy change through the
# API must reach the kernel. After SIGTERM the rules stay; `--cleanup` from the image, as
# its default unprivileged user (65532, the two capabilities from file capabilities)
# with a lock file of its own, removes everything. Needs root, podman and the Debian
# archive (the first scripts/image run). Prints "N passed, M failed" and the image size.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

scn_need_root
scn_need_bins curl ipset podman
T0=$(scn_now)
CTRS=()
# Containers outlive a killed namespace process as podman records: removed on exit,
# before the lab's own cleanup (lab_init chains this trap).
img_cleanup() {
	local c
	for c in "${CTRS[@]}"; do
		podman rm -f -t 2 "$c" >/dev/null 2>&1
	done
}
trap img_cleanup EXIT

out=$("$NPD_SRC_DIR/scripts/image" 2>&1)
rc=$?
IMAGE=$(sed -n 's/^image: \([^ ]*\) .*/\1/p' <<<"$out")
if ! lab_check "scripts/image builds the image" test "$rc" = 0 -a -n "$IMAGE"; then
	tail -n 20 <<<"$out"
	lab_summary
	exit 1
fi
grep '^image:' <<<"$out"
version=$(grep -o 'project(netpold VERSION [0-9.]*' "$NPD_SRC_DIR/CMakeLists.txt" | awk '{print $3}')
lab_check "the image is netpold:$version" test "$IMAGE" = "localhost/netpold:$version"
lab_check "the image's user is 65532 (not root)" \
	test "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = 65532:65532

# Some hosts' podman cannot run crun (cgroup v1+v2 hybrid) or raise rlimits (no
# CAP_SYS_RESOURCE): take the first runtime that runs the image, and the host's limits.
PODMAN=()
RUN_OPTS=(--pull never --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
for rt in "" runc crun; do
	p=(podman)
	[[ -z $rt ]] || p+=(--runtime "$rt")
	if v=$("${p[@]}" run --rm --network none "${RUN_OPTS[@]}" --cap-drop all \
		--cap-add NET_ADMIN,NET_RAW "$IMAGE" --version 2>/dev/null); then
		PODMAN=("${p[@]}")
		break
	fi
done
if ! lab_check "podman runs the image (netpold --version: ${v:-nothing})" \
	test "${#PODMAN[@]}" -gt 0 -a "${v:-}" = "netpold $version"; then
	lab_summary
	exit 1
fi

if ! api_aks_up; then
	lab_summary
	exit 1
fi

# img_start NODE [PODMAN_OPTS...] [-- NETPOLD_ARGS...]: netpold from the image in NODE's
# namespace; its host pid goes where the scn_agent_* helpers look for it.
img_start() {
	local node=$1 name pid
	local -a opts=() args=()
	shift
	while [[ $# -gt 0 && $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	[[ $# -eq 0 ]] || shift
	args=("$@")
	name=npd-img-$$-$node
	CTRS+=("$name")
	"${PODMAN[@]}" run -d --name "$name" --network "ns:/run/netns/$(lab_ns "$node")" \
		"${RUN_OPTS[@]}" --log-driver k8s-file --user 0:0 --cap-drop all \
		--cap-add NET_ADMIN,NET_RAW --security-opt no-new-privileges --read-only \
		-v /run/xtables.lock:/run/xtables.lock "${opts[@]}" "$IMAGE" --node-name "$node" \
		--backend legacy --metrics-addr "127.0.0.1:$SCN_METRICS_PORT" "${args[@]}" \
		>/dev/null || return 1
	pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$name") || return 1
	[[ $pid -gt 0 ]] || return 1
	echo "$pid" >"$SCN_DIR/agent-$node.pid"
}

img_logs() {
	local n
	for n in node1 node2; do
		echo "---- netpold (image) on $n ----"
		"${PODMAN[@]}" logs --tail 15 "npd-img-$$-$n" 2>&1
	done
}

sa=/var/run/secrets/kubernetes.io/serviceaccount
if ! api_step "node1: the image in-cluster (service account), node2: --kubeconfig" eval \
	'img_start node1 -e KUBERNETES_SERVICE_HOST=$API_IP -e KUBERNETES_SERVICE_PORT=$API_PORT \
		-v "$API_STATE:$sa:ro" &&
	img_start node2 -v "$API_STATE:$API_STATE:ro" -- --kubeconfig "$API_STATE/kubeconfig"'; then
	img_logs
	lab_summary
	exit 1
fi
if ! api_step "netpold from the image ready on node1 and node2" eval \
	'scn_agent_ready node1 30 && scn_agent_ready node2 30'; then
	img_logs
	api_dump_on_failure
	lab_summary
	exit 1
fi

# What the kernel says about the container's netpold: uid 0, exactly the two
# capabilities (bits 12 and 13), no_new_privs, in node1's network namespace.
pid=$(scn_agent_pid node1)
status=$(cat "/proc/$pid/status")
lab_check "container netpold runs as uid 0" grep -Eq '^Uid:\s+0\s' <<<"$status"
lab_check "effective capabilities are NET_ADMIN and NET_RAW only" \
	grep -q '^CapEff:\s*0000000000003000$' <<<"$status"
lab_check "bounding set is NET_ADMIN and NET_RAW only" \
	grep -q '^CapBnd:\s*0000000000003000$' <<<"$status"
lab_check "no_new_privs set" grep -q '^NoNewPrivs:\s*1$' <<<"$status"
lab_check "it runs in node1's network namespace" \
	test "$(readlink "/proc/$pid/ns/net")" = "$(ip netns exec "$(lab_ns node1)" readlink /proc/self/ns/net)"
lab_check "the root filesystem is read-only" \
	test "$("${PODMAN[@]}" inspect --format '{{.HostConfig.ReadonlyRootfs}}' "npd-img-$$-node1")" = true
lab_check "not privileged" \
	test "$("${PODMAN[@]}" inspect --format '{{.HostConfig.Privileged}}' "npd-img-$$-node1")" = false
lab_check "node1 reads the API in-cluster" \
	grep -q 'source=kubernetes' <<<"$("${PODMAN[@]}" logs "npd-img-$$-node1" 2>&1)"

echo "== AKS (seed 000): the write-up's criteria on real packets"
scn_aks_writeup "$SCN_DIR/aks.writeup.exp"
scn_matrix_eventually "$SCN_DIR/aks.writeup.exp" 20 || { img_logs; api_dump_on_failure; }

echo "== a change through the API reaches the kernel: db-policy deleted, then re-created"
api_db_cycle

echo "== SIGTERM: the rules stay; --cleanup from the image removes them"
for n in node1 node2; do
	lab_check "netpold (image) on $n exits on SIGTERM" scn_agent_stop "$n"
done
api_expect "after the containers stopped: still enforced" 5 <<-END
	frontend.toolpod backend.dbpod 80 tcp fail
	frontend.apipod backend.dbpod 80 tcp ok
END
# The default user cannot open the host's lock (root's, mode 0600): it gets one it owns.
lock=$SCN_DIR/xtables.lock
touch "$lock" && chown 65532:65532 "$lock"
for n in node1 node2; do
	"${PODMAN[@]}" run --rm --network "ns:/run/netns/$(lab_ns "$n")" "${RUN_OPTS[@]}" \
		--cap-drop all --cap-add NET_ADMIN,NET_RAW --read-only \
		-v "$lock:/run/xtables.lock" "$IMAGE" --cleanup --backend legacy \
		>>"$SCN_DIR/cleanup-$n.log" 2>&1
	lab_check "$n: --cleanup from the image as its default user (65532) exits 0" test $? = 0
done
lab_check "--cleanup leaves nothing of netpold's" scn_no_npd_left node1 node2
api_expect "after --cleanup: dbpod open again" 5 <<-END
	frontend.toolpod backend.dbpod 80 tcp ok
END
echo "time: $(scn_since "$T0")s"
lab_summary
