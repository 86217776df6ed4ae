#!/usr/bin/env bash
# test_api_seeds.sh: the seed scenarios through the Kubernetes API, with real packets.
#
# The test API server runs inside the lab (host "api", 192.168.254.200); netpold
# runs on node1 and node2 with --kubeconfig (legacy backend). Every object is
# created, labelled and deleted through the server's control channel, so each
# step reaches netpold as a watch event:
#   1. AKS frontend/backend/db (seed 000): the write-up's four criteria hold.
#   2. apppod relabelled app=api: it now reaches dbpod (one peer: namespace AND
#      pod selector) and loses its own egress to apipod; relabelled back.
#   3. db-policy deleted: dbpod is open again (any pod, the vm, its egress);
#      re-created: closed again.
#   4. a new policy (tools-deny-ingress) isolates toolpod.
#   5. frontend's "name" label changed: apipod loses dbpod; restored.
#   6. default deny + the DNS trap (seed 002) in prod-nginx, policy by policy:
#      default-deny breaks DNS, allow-dns fixes it (UDP and TCP 53 to a kube-system
#      responder), allow-http + allow-debug-egress open debug -> nginx:80 only.
# Expected verdicts are written from the seed semantics (not from netpolctl).
# Needs root. Prints "N passed, M failed"; exits non-zero on failure.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apilab.sh
. "$HERE/lib/apilab.sh"

api_setup_aks
lab_check "six watches open (3 resources x 2 agents)" api_wait_watchers 6

echo "== 1. AKS: the write-up's criteria"
scn_aks_writeup "$SCN_DIR/aks.writeup.exp"
scn_matrix_eventually "$SCN_DIR/aks.writeup.exp" 15 || api_dump_on_failure

echo "== 2. relabel apppod app=api, then back"
lab_check "label apppod app=api" api_ctl label pod frontend apppod app=api
api_expect "apppod is app=api" 15 <<-EOF
	frontend.apppod backend.dbpod 80 tcp ok
	frontend.apppod frontend.apipod 80 tcp fail
	frontend.apppod kube-system.coredns 53 udp ok
	frontend.apppod kube-system.coredns 80 tcp fail
	frontend.toolpod backend.dbpod 80 tcp fail
	frontend.apipod backend.dbpod 80 tcp ok
	vm frontend.apppod 80 tcp ok
EOF
lab_check "label apppod app=app" api_ctl label pod frontend apppod app=app
api_expect "apppod is app=app again" 15 <<-EOF
	frontend.apppod backend.dbpod 80 tcp fail
	frontend.apppod frontend.apipod 80 tcp ok
	frontend.apppod kube-system.coredns 53 udp ok
EOF

echo "== 3. delete db-policy, then create it again"
api_db_cycle

echo "== 4. a new policy: tools-deny-ingress"
api_expect "toolpod open before" 10 <<-EOF
	vm frontend.toolpod 80 tcp ok
	kube-system.coredns frontend.toolpod 53 udp ok
EOF
lab_check "create tools-deny-ingress" api_create aks-tools-deny.json
api_expect "toolpod isolated for ingress, its egress untouched" 15 <<-EOF
	vm frontend.toolpod 80 tcp fail
	kube-system.coredns frontend.toolpod 53 udp fail
	frontend.apppod frontend.toolpod 80 tcp fail
	frontend.toolpod frontend.apipod 80 tcp ok
	frontend.toolpod kube-system.coredns 53 udp ok
EOF

echo "== 5. namespace label: frontend name=elsewhere, then back"
lab_check "label ns frontend name=elsewhere" api_ctl label ns frontend name=elsewhere
api_expect "apipod's namespace no longer matches db-policy" 15 <<-EOF
	frontend.apipod backend.dbpod 80 tcp fail
	frontend.apipod kube-system.coredns 53 udp ok
EOF
lab_check "label ns frontend name=frontend" api_ctl label ns frontend name=frontend
api_expect "apipod reaches dbpod again" 15 <<-EOF
	frontend.apipod backend.dbpod 80 tcp ok
EOF

echo "== 6. default deny + DNS in prod-nginx"
lab_check "prod-nginx and its pods created through the API" api_load dns-objects.json
api_expect "prod-nginx before any policy: open" 15 <<-EOF
	prod-nginx.debug prod-nginx.nginx-1 80 tcp ok
	prod-nginx.debug kube-system.coredns 53 udp ok
	prod-nginx.nginx-1 prod-nginx.nginx-2 80 tcp ok
	vm prod-nginx.nginx-2 80 tcp ok
EOF
# dns_step NAME DNS LABEL <<EOF: create dns-NAME.json, then expect LABEL: prod-nginx's
# lookups (debug over UDP and TCP 53, nginx-1 over UDP) DNS (ok|fail), debug not
# reaching nginx-1 on 80, and the rows on stdin.
dns_step() {
	local rows
	rows=$(cat)
	lab_check "create $1" api_create "dns-$1.json"
	api_expect "$3" 15 <<-EOF
		prod-nginx.debug kube-system.coredns 53 udp $2
		prod-nginx.debug kube-system.coredns 53 tcp $2
		prod-nginx.nginx-1 kube-system.coredns 53 udp $2
		prod-nginx.debug prod-nginx.nginx-1 80 tcp fail
		$rows
	EOF
}
dns_step default-deny fail "default-deny: nothing in or out, DNS broken (the trap)" <<-EOF
	prod-nginx.nginx-1 prod-nginx.nginx-2 80 tcp fail
	vm prod-nginx.nginx-2 80 tcp fail
	kube-system.coredns prod-nginx.nginx-1 80 tcp fail
	frontend.toolpod kube-system.coredns 53 udp ok
EOF
dns_step allow-dns ok "allow-dns: DNS fixed (UDP and TCP 53), the rest still denied" <<-EOF
	prod-nginx.nginx-2 kube-system.coredns 53 tcp ok
	prod-nginx.nginx-1 prod-nginx.nginx-2 80 tcp fail
	prod-nginx.nginx-1 prod-nginx.nginx-2 53 udp fail
	vm prod-nginx.nginx-2 80 tcp fail
EOF
lab_check "create allow-http and allow-debug-egress" \
	api_create dns-allow-http.json dns-allow-debug-egress.json
api_expect "the seed's final matrix" 15 <<-EOF
	prod-nginx.debug prod-nginx.nginx-1 80 tcp ok
	prod-nginx.debug prod-nginx.nginx-2 80 tcp ok
	prod-nginx.debug kube-system.coredns 53 udp ok
	prod-nginx.nginx-1 prod-nginx.nginx-2 80 tcp fail
	prod-nginx.nginx-1 kube-system.coredns 53 udp ok
	prod-nginx.debug prod-nginx.nginx-1 443 tcp fail
	prod-nginx.nginx-1 prod-nginx.debug 80 tcp fail
	prod-nginx.nginx-1 prod-nginx.debug 53 udp fail
	kube-system.coredns prod-nginx.nginx-1 80 tcp fail
	vm prod-nginx.nginx-1 80 tcp fail
	vm prod-nginx.debug 443 tcp fail
EOF

echo "== the whole AKS write-up still holds after all that (tools-deny aside)"
lab_check "delete tools-deny-ingress" api_ctl delete netpol frontend tools-deny-ingress
scn_matrix_eventually "$SCN_DIR/aks.writeup.exp" 15 || api_dump_on_failure

for n in node1 node2; do
	lab_check "$n: no decode errors" test "$(api_metric_sum "$n" netpold_decode_errors_total)" = 0
done
api_finish
