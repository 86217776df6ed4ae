/* check_sim.c: the simulator against the Kubernetes NetworkPolicy rules, one rule per test:
 * isolation and its defaults, egress AND ingress, union of policies, AND vs OR peers,
 * namespaceSelector {}, named ports at the destination, endPort, protocols, ipBlock except,
 * invalid policies, unselectable pods; then the AKS example matrix cell by cell. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "npd/mem.h"
#include "npd/sim.h"
#include "npd/store.h"
#include "npd/yaml.h"
#include "testutil.h"

/* Runs the simulator between two endpoint specs (NS/NAME or IP); asserts it answers. */
static bool
sim(const struct npd_store *s, const char *from, const char *to, uint16_t port,
    enum npd_proto proto, struct npd_sim_result *out)
{
	struct npd_sim_endpoint a, b;
	struct npd_sim_result r;
	bool allowed;

	ck_assert_msg(npd_sim_endpoint_parse(s, from, &a) == 0, "endpoint %s", from);
	ck_assert_msg(npd_sim_endpoint_parse(s, to, &b) == 0, "endpoint %s", to);
	ck_assert_int_eq(npd_sim_run(s, &a, &b, port, proto, &r), 0);
	ck_assert_int_eq(r.allowed, r.egress.allowed && r.ingress.allowed);
	allowed = r.allowed;
	if (out)
		*out = r;
	else
		npd_sim_result_fini(&r);
	return allowed;
}

static bool
tcp(const struct npd_store *s, const char *from, const char *to, uint16_t port)
{
	return sim(s, from, to, port, NPD_PROTO_TCP, NULL);
}

/* frontend (name=frontend): api app=api, app app=app; backend (name=backend): db app=db,
 * api2 app=api; other (no labels): x app=api. */
static struct npd_store *
base_store(void)
{
	struct npd_store *s = npd_store_new();

	npd_store_add_namespace(s, tu_ns("frontend", "name=frontend"));
	npd_store_add_namespace(s, tu_ns("backend", "name=backend"));
	npd_store_add_namespace(s, tu_ns("other", NULL));
	npd_store_add_pod(s, tu_pod("frontend", "api", "app=api", "10.244.1.10", "node1"));
	npd_store_add_pod(s, tu_pod("frontend", "app", "app=app", "10.244.2.10", "node2"));
	npd_store_add_pod(s, tu_pod("backend", "db", "app=db", "10.244.2.20", "node2"));
	npd_store_add_pod(s, tu_pod("backend", "api2", "app=api", "10.244.1.21", "node1"));
	npd_store_add_pod(s, tu_pod("other", "x", "app=api", "10.244.1.30", "node1"));
	return s;
}

START_TEST(no_policy_allows_all)
{
	struct npd_store *s = base_store();
	struct npd_sim_result r;

	ck_assert(sim(s, "frontend/app", "backend/db", 5432, NPD_PROTO_TCP, &r));
	ck_assert(!r.egress.isolated && !r.ingress.isolated);
	ck_assert(r.egress.enforced && r.ingress.enforced);
	ck_assert_ptr_null(r.ingress.admitted_by);
	ck_assert_ptr_nonnull(strstr(r.ingress.reason, "not isolated"));
	npd_sim_result_fini(&r);
	ck_assert(tcp(s, "192.168.254.100", "backend/db", 80));
	npd_store_free(s);
}
END_TEST

START_TEST(peer_and_vs_or)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db-and", "app=db", true, false);
	struct npd_policy_rule *r = tu_rule(p, false);
	struct npd_sim_result res;

	tu_peer_sel(r, "name=frontend", "app=api"); /* one entry: AND */
	npd_store_add_policy(s, p);
	ck_assert(sim(s, "frontend/api", "backend/db", 80, NPD_PROTO_TCP, &res));
	ck_assert(res.ingress.isolated);
	ck_assert_uint_eq(res.ingress.n_isolating, 1);
	ck_assert_ptr_eq(res.ingress.admitted_by, npd_store_get_policy(s, "backend", "db-and"));
	ck_assert_uint_eq(res.ingress.rule_index, 0);
	npd_sim_result_fini(&res);
	ck_assert(!tcp(s, "frontend/app", "backend/db", 80));
	ck_assert(!tcp(s, "backend/api2", "backend/db", 80));
	ck_assert(!tcp(s, "other/x", "backend/db", 80));

	/* The "one dash" variant: two entries are an OR. */
	p = tu_policy("backend", "db-and", "app=db", true, false);
	r = tu_rule(p, false);
	tu_peer_sel(r, "name=frontend", NULL);
	tu_peer_sel(r, NULL, "app=api");
	npd_store_add_policy(s, p);
	ck_assert(tcp(s, "frontend/api", "backend/db", 80));
	ck_assert(tcp(s, "frontend/app", "backend/db", 80)); /* any frontend pod */
	ck_assert(tcp(s, "backend/api2", "backend/db", 80)); /* app=api of backend itself */
	ck_assert(!tcp(s, "other/x", "backend/db", 80));     /* app=api elsewhere: no */
	ck_assert(!tcp(s, "192.168.254.100", "backend/db", 80));
	npd_store_free(s);
}
END_TEST

START_TEST(empty_namespace_selector_is_all_namespaces)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "all-ns", "app=db", true, false);

	tu_peer_sel(tu_rule(p, false), "", NULL);
	npd_store_add_policy(s, p);
	ck_assert(tcp(s, "frontend/app", "backend/db", 80));
	ck_assert(tcp(s, "other/x", "backend/db", 80));
	ck_assert(tcp(s, "backend/api2", "backend/db", 80));
	ck_assert(!tcp(s, "192.168.254.100", "backend/db", 80)); /* pods only, no IPs */

	/* podSelector alone: the policy's own namespace only. */
	p = tu_policy("backend", "all-ns", "app=db", true, false);
	tu_peer_sel(tu_rule(p, false), NULL, "");
	npd_store_add_policy(s, p);
	ck_assert(tcp(s, "backend/api2", "backend/db", 80));
	ck_assert(!tcp(s, "frontend/app", "backend/db", 80));

	/* A namespace known only through its pods still carries its metadata.name label. */
	npd_store_add_pod(s, tu_pod("ghost", "g", "app=g", "10.244.1.99", "node1"));
	p = tu_policy("backend", "all-ns", "app=db", true, false);
	tu_peer_sel(tu_rule(p, false), "kubernetes.io/metadata.name=ghost", NULL);
	npd_store_add_policy(s, p);
	ck_assert(tcp(s, "ghost/g", "backend/db", 80));
	ck_assert(!tcp(s, "other/x", "backend/db", 80));
	npd_store_free(s);
}
END_TEST

START_TEST(directions_isolate_separately)
{
	struct npd_store *s = base_store();
	struct npd_sim_result r;

	/* Ingress-only deny-all on db: db may still send anything. */
	npd_store_add_policy(s, tu_policy("backend", "deny-in", "app=db", true, false));
	ck_assert(!tcp(s, "frontend/app", "backend/db", 80));
	ck_assert(sim(s, "backend/db", "frontend/app", 80, NPD_PROTO_TCP, &r));
	ck_assert(!r.egress.isolated);
	npd_sim_result_fini(&r);

	/* Egress-only deny-all on app: app receives anything, sends nothing. */
	npd_store_add_policy(s, tu_policy("frontend", "deny-out", "app=app", false, true));
	ck_assert(tcp(s, "frontend/api", "frontend/app", 80));
	ck_assert(!sim(s, "frontend/app", "frontend/api", 80, NPD_PROTO_TCP, &r));
	ck_assert(r.egress.isolated && !r.egress.allowed);
	ck_assert(!r.ingress.isolated && r.ingress.allowed);
	ck_assert_ptr_nonnull(strstr(r.egress.reason, "frontend/deny-out"));
	npd_sim_result_fini(&r);
	ck_assert(!tcp(s, "frontend/app", "192.168.254.100", 443));
	npd_store_free(s);
}
END_TEST

START_TEST(egress_and_ingress_both_required)
{
	struct npd_store *s = base_store();
	struct npd_policy *in = tu_policy("backend", "db-in", "app=db", true, false);
	struct npd_policy *out = tu_policy("frontend", "app-out", "app=app", false, true);
	struct npd_sim_result r;

	tu_peer_sel(tu_rule(in, false), "name=frontend", NULL); /* db admits all of frontend */
	tu_peer_sel(tu_rule(out, true), NULL, "app=api");	/* app sends only to api */
	npd_store_add_policy(s, in);
	npd_store_add_policy(s, out);
	ck_assert(!sim(s, "frontend/app", "backend/db", 80, NPD_PROTO_TCP, &r));
	ck_assert(!r.egress.allowed && r.ingress.allowed);
	npd_sim_result_fini(&r);
	ck_assert(tcp(s, "frontend/api", "backend/db", 80));
	ck_assert(tcp(s, "frontend/app", "frontend/api", 80));
	npd_store_free(s);
}
END_TEST

START_TEST(policies_are_a_union)
{
	struct npd_store *s = base_store();
	struct npd_policy *a = tu_policy("backend", "a-deny", "app=db", true, false);
	struct npd_policy *b = tu_policy("backend", "b-api", "", true, false);
	struct npd_policy *c = tu_policy("backend", "c-api-too", "app=db", true, false);
	struct npd_sim_result r;

	tu_peer_sel(tu_rule(b, false), "", "app=api");
	tu_rule(c, false); /* an empty rule: from anywhere, any port */
	npd_store_add_policy(s, c);
	npd_store_add_policy(s, a);
	npd_store_add_policy(s, b);
	ck_assert(sim(s, "frontend/api", "backend/db", 80, NPD_PROTO_TCP, &r));
	ck_assert_uint_eq(r.ingress.n_isolating, 3);
	ck_assert_str_eq(r.ingress.isolating[0]->name, "a-deny");
	ck_assert_str_eq(r.ingress.admitted_by->name, "b-api"); /* first in name order */
	npd_sim_result_fini(&r);
	ck_assert(sim(s, "frontend/app", "backend/db", 80, NPD_PROTO_TCP, &r));
	ck_assert_str_eq(r.ingress.admitted_by->name, "c-api-too");
	npd_sim_result_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(named_ports_resolve_at_destination)
{
	struct npd_store *s = npd_store_new();
	struct npd_pod *web = tu_pod("ns", "web", "app=web", "10.244.1.2", "node1");
	struct npd_pod *alt = tu_pod("ns", "alt", "app=alt", "10.244.2.3", "node2");
	struct npd_pod *cli = tu_pod("ns", "cli", "app=cli", "10.244.2.4", "node2");
	struct npd_policy *in = tu_policy("ns", "web-in", "app=web", true, false);
	struct npd_policy *out = tu_policy("ns", "cli-out", "app=cli", false, true);

	tu_pod_port(web, "http", NPD_PROTO_TCP, 8080);
	tu_pod_port(alt, "http", NPD_PROTO_TCP, 9090);
	tu_pod_port(cli, "http", NPD_PROTO_TCP, 80); /* the source's own ports never count */
	npd_store_add_pod(s, web);
	npd_store_add_pod(s, alt);
	npd_store_add_pod(s, cli);
	tu_port(tu_rule(in, false), NPD_PROTO_TCP, 0, 0, "http");
	tu_port(tu_rule(out, true), NPD_PROTO_TCP, 0, 0, "http");
	npd_store_add_policy(s, in);
	npd_store_add_policy(s, out);
	/* Ingress: http of web is 8080. */
	ck_assert(tcp(s, "ns/alt", "ns/web", 8080));
	ck_assert(!tcp(s, "ns/alt", "ns/web", 80));
	ck_assert(!sim(s, "ns/alt", "ns/web", 8080, NPD_PROTO_UDP, NULL));
	/* Egress: resolved against each destination, not the source. */
	ck_assert(tcp(s, "ns/cli", "ns/web", 8080));
	ck_assert(tcp(s, "ns/cli", "ns/alt", 9090));
	ck_assert(!tcp(s, "ns/cli", "ns/alt", 8080));
	ck_assert(!tcp(s, "ns/cli", "ns/alt", 80));
	/* Outside the cluster there is no container port to resolve. */
	ck_assert(!tcp(s, "ns/cli", "192.168.254.100", 80));
	ck_assert(!tcp(s, "ns/cli", "192.168.254.100", 8080));
	npd_store_free(s);
}
END_TEST

START_TEST(end_port_range_and_protocols)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db-in", "app=db", true, false);
	struct npd_policy_rule *r = tu_rule(p, false);

	tu_port(r, NPD_PROTO_TCP, 1000, 2000, NULL);
	tu_port(r, NPD_PROTO_UDP, 53, 0, NULL);
	tu_port(r, NPD_PROTO_SCTP, 9999, 0, NULL);
	r = tu_rule(p, false);
	tu_port(r, NPD_PROTO_UDP, 0, 0, NULL); /* every UDP port */
	npd_store_add_policy(s, p);
	ck_assert(!tcp(s, "frontend/app", "backend/db", 999));
	ck_assert(tcp(s, "frontend/app", "backend/db", 1000));
	ck_assert(tcp(s, "frontend/app", "backend/db", 1500));
	ck_assert(tcp(s, "frontend/app", "backend/db", 2000));
	ck_assert(!tcp(s, "frontend/app", "backend/db", 2001));
	ck_assert(!tcp(s, "frontend/app", "backend/db", 53));
	ck_assert(!tcp(s, "frontend/app", "backend/db", 9999));
	ck_assert(sim(s, "frontend/app", "backend/db", 9999, NPD_PROTO_SCTP, NULL));
	ck_assert(!sim(s, "frontend/app", "backend/db", 1000, NPD_PROTO_SCTP, NULL));
	ck_assert(sim(s, "frontend/app", "backend/db", 4242, NPD_PROTO_UDP, NULL));
	npd_store_free(s);
}
END_TEST

START_TEST(ipblock_except_and_pods)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db-in", "app=db", true, false);

	tu_peer_block(tu_rule(p, false), "10.0.0.0/8", "10.244.1.0/24");
	tu_peer_block(tu_rule(p, false), "192.168.254.0/24", NULL);
	npd_store_add_policy(s, p);
	ck_assert(tcp(s, "10.9.9.9", "backend/db", 80));
	ck_assert(tcp(s, "192.168.254.100", "backend/db", 80));
	ck_assert(!tcp(s, "172.16.0.1", "backend/db", 80));
	ck_assert(!tcp(s, "10.244.1.77", "backend/db", 80)); /* in except */
	/* ipBlock matches pod IPs too: app (10.244.2.10) yes, api (10.244.1.10) excepted. */
	ck_assert(tcp(s, "frontend/app", "backend/db", 80));
	ck_assert(!tcp(s, "frontend/api", "backend/db", 80));
	npd_store_free(s);
}
END_TEST

START_TEST(ipv6_family)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("ds", "web-in", "app=web", true, false);
	struct npd_sim_endpoint a, b;
	struct npd_sim_result r;

	npd_store_add_pod(s, tu_pod("ds", "web", "app=web", "10.244.1.50,fd00:244:1::50", "node1"));
	npd_store_add_pod(s, tu_pod("ds", "cli", "app=cli", "10.244.2.51,fd00:244:2::51", "node2"));
	tu_peer_block(tu_rule(p, false), "fd00:244:2::/64", NULL);
	npd_store_add_policy(s, p);
	ck_assert(!tcp(s, "ds/cli", "ds/web", 80));	   /* v4 by default */
	ck_assert(tcp(s, "fd00:244:2::51", "ds/web", 80)); /* the pod, over v6 */
	ck_assert(tcp(s, "ds/cli", "fd00:244:1::50", 80)); /* family from dst */
	ck_assert(!tcp(s, "10.244.2.51", "ds/web", 80));
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "fd00:244:2::51", &a), 0);
	ck_assert_ptr_eq(a.pod, npd_store_get_pod(s, "ds", "cli"));
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "10.244.1.50", &b), 0);
	ck_assert_int_eq(npd_sim_run(s, &a, &b, 80, NPD_PROTO_TCP, &r), -EAFNOSUPPORT);
	npd_store_free(s);
}
END_TEST

START_TEST(invalid_policy_isolates_but_admits_nothing)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "broken", "app=db", true, false);
	struct npd_sim_result r;

	tu_rule(p, false); /* would admit everything */
	p->invalid = true;
	p->invalid_reason = npd_xstrdup("bad cidr");
	npd_store_add_policy(s, p);
	ck_assert(!sim(s, "frontend/api", "backend/db", 80, NPD_PROTO_TCP, &r));
	ck_assert(r.ingress.isolated);
	ck_assert_ptr_nonnull(strstr(r.ingress.reason, "invalid (bad cidr)"));
	npd_sim_result_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(unselectable_pods)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db-in", "app=db", true, false);
	struct npd_pod *hn = tu_pod("frontend", "hostnet", "app=api", "192.168.1.5", "node1");
	struct npd_pod *done = tu_pod("frontend", "done", "app=api", "10.244.1.66", "node1");
	struct npd_pod *pending = tu_pod("frontend", "pending", "app=api", NULL, "node1");
	struct npd_sim_endpoint a, b;
	struct npd_sim_result r;

	hn->host_network = true;
	done->phase = NPD_PHASE_FAILED;
	pending->phase = NPD_PHASE_PENDING;
	npd_store_add_pod(s, hn);
	npd_store_add_pod(s, done);
	npd_store_add_pod(s, pending);
	tu_peer_sel(tu_rule(p, false), "name=frontend", "app=api");
	tu_peer_block(tu_rule(p, false), "192.168.1.0/24", NULL);
	npd_store_add_policy(s, p);
	npd_store_add_policy(s, tu_policy("frontend", "deny-all", "", true, true));

	/* Labels match, but a hostNetwork pod is no selector peer; its IP is an ipBlock's. */
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "frontend/hostnet", &a), 0);
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "backend/db", &b), 0);
	ck_assert_int_eq(npd_sim_run(s, &a, &b, 80, NPD_PROTO_TCP, &r), 0);
	ck_assert(r.allowed);
	ck_assert(!r.egress.enforced); /* frontend's deny-all does not apply to it */
	ck_assert_uint_eq(r.ingress.rule_index, 1);
	npd_sim_result_fini(&r);
	ck_assert(!tcp(s, "frontend/done", "backend/db", 80));
	/* As destinations they are not enforced: allowed, and said why. */
	ck_assert(sim(s, "other/x", "frontend/hostnet", 22, NPD_PROTO_TCP, &r));
	ck_assert(!r.ingress.enforced);
	ck_assert_ptr_nonnull(strstr(r.ingress.reason, "hostNetwork"));
	npd_sim_result_fini(&r);
	ck_assert(sim(s, "other/x", "frontend/pending", 80, NPD_PROTO_TCP, &r));
	ck_assert_ptr_nonnull(strstr(r.ingress.reason, "no IP"));
	npd_sim_result_fini(&r);
	/* An IP that a finished pod held is no pod any more: just an address. */
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "10.244.1.66", &a), 0);
	ck_assert_ptr_null(a.pod);
	npd_store_free(s);
}
END_TEST

START_TEST(endpoint_parse_errors)
{
	struct npd_store *s = base_store();
	struct npd_sim_endpoint ep;

	ck_assert_int_eq(npd_sim_endpoint_parse(s, "backend/nope", &ep), -ENOENT);
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "nonsense", &ep), -EINVAL);
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "a/b/c", &ep), -EINVAL);
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "/x", &ep), -EINVAL);
	ck_assert_int_eq(npd_sim_endpoint_parse(s, "10.244.2.20", &ep), 0);
	ck_assert_ptr_eq(ep.pod, npd_store_get_pod(s, "backend", "db"));
	ck_assert(ep.has_addr);
	npd_store_free(s);
}
END_TEST

static struct npd_store *
load_example(const char *file)
{
	struct npd_store *s = npd_store_new();
	char *rel = npd_xasprintf("manifests/examples/%s", file);
	struct npd_diags d;

	npd_diags_init(&d);
	ck_assert_int_eq(npd_yaml_load(tu_src_path(rel), s, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	npd_diags_fini(&d);
	free(rel);
	return s;
}

/* npd_sim_is_isolated (the conntrack cut's shortcut) says what a full simulation says of
 * each side, for every pair of pods of every example. */
START_TEST(is_isolated_agrees_with_the_simulation)
{
	static const char *const files[] = {"aks-frontend-backend-db.yaml",
					    "aks-one-dash.yaml",
					    "cross-namespace.yaml",
					    "db-3306-6379.yaml",
					    "default-deny-dns.yaml",
					    "default-deny-only.yaml",
					    "dual-stack.yaml"};
	size_t f, i, j, k, n_ns, na, nb, pairs = 0, isolated = 0;

	for (f = 0; f < NPD_ARRAY_SIZE(files); f++) {
		struct npd_store *s = load_example(files[f]);
		const char *const *ns = npd_store_ns_names(s, &n_ns);

		for (i = 0; i < n_ns; i++)
			for (j = 0; j < n_ns; j++) {
				const struct npd_pod *const *a = npd_store_pods_in(s, ns[i], &na);
				const struct npd_pod *const *b = npd_store_pods_in(s, ns[j], &nb);

				for (k = 0; k < na * nb; k++) {
					struct npd_sim_endpoint from = {.pod = a[k / nb]};
					struct npd_sim_endpoint to = {.pod = b[k % nb]};
					struct npd_sim_result r;

					if (npd_sim_run(s, &from, &to, 80, NPD_PROTO_TCP, &r))
						continue;
					ck_assert_int_eq(npd_sim_is_isolated(s, from.pod, true),
							 r.egress.isolated);
					ck_assert_int_eq(npd_sim_is_isolated(s, to.pod, false),
							 r.ingress.isolated);
					isolated += r.egress.isolated + r.ingress.isolated;
					pairs++;
					npd_sim_result_fini(&r);
				}
			}
		npd_store_free(s);
	}
	ck_assert_uint_gt(pairs, 50);
	ck_assert_uint_gt(isolated, 0);
	ck_assert_uint_lt(isolated, 2 * pairs);
}
END_TEST

/* The AKS example, port 80/TCP: every cell of the expected matrix in the file's header. */
START_TEST(aks_matrix)
{
	static const char *const names[] = {"backend/dbpod",	   "frontend/apipod",
					    "frontend/apppod",	   "frontend/toolpod",
					    "kube-system/coredns", "192.168.254.100"};
	/* 1 allowed, 0 denied, -1 same pod; rows from, columns to (the five pods). */
	static const int want[6][5] = {
	    {-1, 0, 0, 0, 0}, /* 2. no egress from db */
	    {1, -1, 0, 0, 0}, /* 1. api reaches db; 4. api only to backend */
	    {0, 1, -1, 0, 0}, /* 4. app only to api */
	    {0, 1, 1, -1, 1}, /* 1. not db; 3. api and app from the VNET */
	    {0, 1, 1, 1, -1}, /* 3. */
	    {0, 1, 1, 1, 1},  /* 1. and 3.: the test VM */
	};
	struct npd_store *s = load_example("aks-frontend-backend-db.yaml");
	size_t i, j;

	for (i = 0; i < 6; i++)
		for (j = 0; j < 5; j++)
			if (want[i][j] >= 0)
				ck_assert_msg(tcp(s, names[i], names[j], 80) == want[i][j],
					      "%s -> %s", names[i], names[j]);
	/* DNS stays open for the egress-restricted pods, not for db. */
	ck_assert(sim(s, names[1], names[4], 53, NPD_PROTO_UDP, NULL));
	ck_assert(sim(s, names[2], names[4], 53, NPD_PROTO_UDP, NULL));
	ck_assert(!sim(s, names[0], names[4], 53, NPD_PROTO_UDP, NULL));
	ck_assert(!tcp(s, names[1], names[0], 443)); /* db admits port 80 only */
	npd_store_free(s);

	/* The one-dash variant: any frontend pod passes db's ingress. */
	s = load_example("aks-one-dash.yaml");
	ck_assert(tcp(s, "frontend/toolpod", "backend/dbpod", 80));
	ck_assert(tcp(s, "frontend/apipod", "backend/dbpod", 80));
	ck_assert(!tcp(s, "kube-system/coredns", "backend/dbpod", 80));
	npd_store_free(s);
}
END_TEST

/* policyTypes defaulting as decoded: allow-debug-egress has none, so it isolates Ingress
 * and (having egress rules) Egress; allow-dns says Egress only. */
START_TEST(policy_types_default)
{
	struct npd_store *s = load_example("default-deny-dns.yaml");
	const struct npd_policy *p = npd_store_get_policy(s, "prod-nginx", "allow-debug-egress");
	struct npd_sim_result r;

	ck_assert_ptr_nonnull(p);
	ck_assert(p->isolates_ingress && p->isolates_egress);
	p = npd_store_get_policy(s, "prod-nginx", "allow-http");
	ck_assert(p->isolates_ingress && !p->isolates_egress);
	ck_assert(sim(s, "prod-nginx/debug", "prod-nginx/nginx-1", 80, NPD_PROTO_TCP, &r));
	ck_assert_uint_eq(r.egress.n_isolating,
			  3); /* allow-debug-egress, allow-dns, default-deny */
	ck_assert_str_eq(r.egress.admitted_by->name, "allow-debug-egress");
	ck_assert_str_eq(r.ingress.admitted_by->name, "allow-http");
	npd_sim_result_fini(&r);
	ck_assert(!tcp(s, "prod-nginx/nginx-1", "prod-nginx/nginx-2", 80));
	ck_assert(sim(s, "prod-nginx/nginx-1", "kube-system/coredns", 53, NPD_PROTO_UDP, NULL));
	npd_store_free(s);
}
END_TEST

TU_MAIN("sim", no_policy_allows_all, is_isolated_agrees_with_the_simulation, peer_and_vs_or,
	empty_namespace_selector_is_all_namespaces, directions_isolate_separately,
	egress_and_ingress_both_required, policies_are_a_union, named_ports_resolve_at_destination,
	end_port_range_and_protocols, ipblock_except_and_pods, ipv6_family,
	invalid_policy_isolates_but_admits_nothing, unselectable_pods, endpoint_parse_errors,
	aks_matrix, policy_types_default)
