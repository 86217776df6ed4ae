/* check_lint.c: each lint check fires on the pitfall it names and stays quiet on the
 * correct form: the "one dash" OR, egress isolation without DNS (but not a deliberate
 * lockdown), selectors and named ports matching nothing, except outside its cidr. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/lint.h"
#include "npd/mem.h"
#include "npd/store.h"
#include "npd/yaml.h"
#include "testutil.h"

static struct npd_store *
base_store(void)
{
	struct npd_store *s = npd_store_new();
	struct npd_pod *db = tu_pod("backend", "db", "app=db", "10.244.2.20", "node2");
	struct npd_pod *dns =
	    tu_pod("kube-system", "coredns", "k8s-app=kube-dns", "10.244.1.2", "node1");

	db->ports = npd_xcalloc(1, sizeof(*db->ports));
	db->ports[0].name = npd_xstrdup("http");
	db->ports[0].port = 80;
	db->ports[0].proto = NPD_PROTO_TCP;
	db->n_ports = 1;
	npd_store_add_namespace(s, tu_ns("frontend", "name=frontend"));
	npd_store_add_namespace(s, tu_ns("backend", "name=backend"));
	npd_store_add_namespace(s, tu_ns("kube-system", NULL));
	npd_store_add_pod(s, tu_pod("frontend", "api", "app=api", "10.244.1.10", "node1"));
	npd_store_add_pod(s, tu_pod("frontend", "app", "app=app", "10.244.2.10", "node2"));
	npd_store_add_pod(s, db);
	npd_store_add_pod(s, dns);
	return s;
}

/* Runs lint; returns the count and checks it matches the diagnostics, all LINT kind. */
static size_t
lint(const struct npd_store *s, struct npd_diags *d)
{
	size_t n, i;

	npd_diags_reset(d);
	n = npd_lint_run(s, d);
	ck_assert_uint_eq(n, d->n);
	for (i = 0; i < d->n; i++) {
		ck_assert_int_eq(d->v[i].kind, NPD_DIAG_LINT);
		ck_assert_ptr_nonnull(strstr(d->v[i].msg, "; hint: "));
	}
	return n;
}

START_TEST(one_dash)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db", "app=db", true, true);
	struct npd_diags d;

	npd_diags_init(&d);
	tu_peer_sel(tu_rule(p, false), "name=frontend", "app=api"); /* the intended AND */
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 0);

	p = tu_policy("backend", "db", "app=db", true, true);
	tu_peer_sel(tu_rule(p, false), "name=frontend", NULL);
	tu_peer_sel(p->ingress, NULL, "app=api");
	npd_store_add_policy(s, p);
	/* The one-dash finding, and app=api selecting nothing in backend itself. */
	ck_assert_uint_eq(lint(s, &d), 2);
	ck_assert_str_eq(d.v[0].ns, "backend");
	ck_assert_str_eq(d.v[0].name, "db");
	ck_assert_str_eq(d.v[0].path, "spec.ingress[0].from");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "an OR"));
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "ONE entry"));
	ck_assert_str_eq(d.v[1].path, "spec.ingress[0].from[1]");
	ck_assert_ptr_nonnull(strstr(d.v[1].msg, "matches no running pod of namespace backend"));
	npd_diags_fini(&d);
	npd_store_free(s);
}
END_TEST

START_TEST(dns_trap)
{
	struct npd_store *s = base_store();
	struct npd_policy *p;
	struct npd_policy_rule *r;
	struct npd_diags d;

	npd_diags_init(&d);
	npd_store_add_policy(s, tu_policy("frontend", "default-deny", "", true, true));
	ck_assert_uint_eq(lint(s, &d), 1);
	ck_assert_str_eq(d.v[0].name, "default-deny");
	ck_assert_str_eq(d.v[0].path, "spec.policyTypes");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "2 pod(s)"));
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "DNS"));

	/* The seed's allow-dns: no ports, so both protocols of 53 pass. */
	p = tu_policy("frontend", "allow-dns", "", false, true);
	tu_peer_sel(tu_rule(p, true), "kubernetes.io/metadata.name=kube-system",
		    "k8s-app=kube-dns");
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 0);

	/* UDP only: large answers over TCP fail; still flagged. */
	p = tu_policy("frontend", "allow-dns", "", false, true);
	r = tu_rule(p, true);
	tu_port(r, NPD_PROTO_UDP, 53, 0, NULL);
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 2); /* default-deny and allow-dns both isolate egress */
	tu_port(r, NPD_PROTO_TCP, 53, 0, NULL);
	ck_assert_uint_eq(lint(s, &d), 0);

	/* A named port counts when some pod names 53 so. */
	p = tu_policy("frontend", "allow-dns", "", false, true);
	r = tu_rule(p, true);
	tu_port(r, NPD_PROTO_UDP, 0, 0, "dns");
	tu_port(r, NPD_PROTO_TCP, 0, 0, "dns-tcp");
	npd_store_add_policy(s, p);
	ck_assert_uint_ge(lint(s, &d), 1); /* nothing defines them yet */
	npd_store_del(s, NPD_KIND_POLICY, "frontend", "allow-dns");
	npd_store_del(s, NPD_KIND_POLICY, "frontend", "default-deny");

	/* A pod singled out and allowed no egress at all is a deliberate lockdown. */
	npd_store_add_policy(s, tu_policy("backend", "db", "app=db", true, true));
	ck_assert_uint_eq(lint(s, &d), 0);
	/* But one allowed to talk to something, without DNS, is the trap. */
	p = tu_policy("backend", "db", "app=db", true, true);
	tu_port(tu_rule(p, true), NPD_PROTO_TCP, 443, 0, NULL);
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "backend/db"));
	npd_diags_fini(&d);
	npd_store_free(s);
}
END_TEST

START_TEST(selectors_matching_nothing)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "typo", "app=dbb", true, false);
	struct npd_diags d;

	npd_diags_init(&d);
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 1);
	ck_assert_str_eq(d.v[0].path, "spec.podSelector");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "{app=dbb}"));
	npd_store_del(s, NPD_KIND_POLICY, "backend", "typo");

	p = tu_policy("backend", "db", "app=db", true, false);
	tu_peer_sel(tu_rule(p, false), "team=nobody", NULL);	 /* no such namespace */
	tu_peer_sel(p->ingress, "name=frontend", "app=nothing"); /* namespace yes, pods no */
	tu_peer_sel(p->ingress, "", "app=api");			 /* fine */
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 2);
	ck_assert_str_eq(d.v[0].path, "spec.ingress[0].from[0]");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "matches no namespace"));
	ck_assert_str_eq(d.v[1].path, "spec.ingress[0].from[1]");
	ck_assert_ptr_nonnull(strstr(d.v[1].msg, "matches no running pod"));
	npd_store_free(s);

	/* Policies alone (no pods loaded): nothing to compare selectors with. */
	s = npd_store_new();
	npd_store_add_policy(s, tu_policy("backend", "typo", "app=dbb", true, false));
	ck_assert_uint_eq(lint(s, &d), 0);
	npd_diags_fini(&d);
	npd_store_free(s);
}
END_TEST

START_TEST(named_ports)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db", "app=db", true, false);
	struct npd_policy_rule *r = tu_rule(p, false);
	struct npd_diags d;

	npd_diags_init(&d);
	tu_port(r, NPD_PROTO_TCP, 0, 0, "http");  /* db defines it */
	tu_port(r, NPD_PROTO_TCP, 0, 0, "https"); /* nobody does */
	tu_port(r, NPD_PROTO_UDP, 0, 0, "http");  /* wrong protocol */
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 2);
	ck_assert_str_eq(d.v[0].path, "spec.ingress[0].ports[1].port");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "\"https\"/TCP"));
	ck_assert_str_eq(d.v[1].path, "spec.ingress[0].ports[2].port");

	/* Egress: resolved at the destinations the rule's peers select. */
	p = tu_policy("frontend", "api-out", "app=api", false, true);
	r = tu_rule(p, true);
	tu_peer_sel(r, "", "");
	tu_port(r, NPD_PROTO_TCP, 0, 0, "http");
	tu_port(r, NPD_PROTO_TCP, 53, 0, NULL);
	tu_port(r, NPD_PROTO_UDP, 53, 0, NULL);
	r = tu_rule(p, true);
	tu_peer_sel(r, "name=frontend", "");
	tu_port(r, NPD_PROTO_TCP, 0, 0, "http"); /* no frontend pod names http */
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 3);
	ck_assert_str_eq(d.v[2].ns, "frontend");
	ck_assert_str_eq(d.v[2].path, "spec.egress[1].ports[0].port");
	npd_diags_fini(&d);
	npd_store_free(s);
}
END_TEST

START_TEST(except_outside_cidr)
{
	struct npd_store *s = base_store();
	struct npd_policy *p = tu_policy("backend", "db", "app=db", true, false);
	struct npd_peer *pe = tu_peer(tu_rule(p, false), NPD_PEER_IPBLOCK);
	struct npd_diags d;

	npd_diags_init(&d);
	ck_assert_int_eq(npd_cidr_parse("10.0.0.0/16", true, &pe->cidr), 0);
	pe->except = npd_xcalloc(3, sizeof(*pe->except));
	ck_assert_int_eq(npd_cidr_parse("10.0.1.0/24", true, &pe->except[0]), 0);
	ck_assert_int_eq(npd_cidr_parse("10.1.0.0/24", true, &pe->except[1]), 0);
	ck_assert_int_eq(npd_cidr_parse("10.0.0.0/8", true, &pe->except[2]), 0);
	pe->n_except = 3;
	npd_store_add_policy(s, p);
	ck_assert_uint_eq(lint(s, &d), 2);
	ck_assert_str_eq(d.v[0].path, "spec.ingress[0].from[0].ipBlock.except[1]");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "10.1.0.0/24 lies outside cidr 10.0.0.0/16"));
	ck_assert_str_eq(d.v[1].path, "spec.ingress[0].from[0].ipBlock.except[2]");
	npd_diags_fini(&d);
	npd_store_free(s);
}
END_TEST

/* The example manifests: lint is silent on the correct ones and flags the two pitfalls. */
START_TEST(examples)
{
	static const struct {
		const char *file;
		size_t n;
		const char *path;
	} cases[] = {
	    {"aks-frontend-backend-db.yaml", 0, NULL},
	    {"aks-one-dash.yaml", 2, "spec.ingress[0].from"},
	    {"default-deny-dns.yaml", 0, NULL},
	    {"default-deny-only.yaml", 1, "spec.policyTypes"},
	    {"cross-namespace.yaml", 0, NULL},
	    {"db-3306-6379.yaml", 0, NULL},
	    {"dual-stack.yaml", 0, NULL},
	};
	struct npd_diags d;
	size_t i;

	npd_diags_init(&d);
	for (i = 0; i < NPD_ARRAY_SIZE(cases); i++) {
		struct npd_store *s = npd_store_new();
		char *rel = npd_xasprintf("manifests/examples/%s", cases[i].file);

		npd_diags_reset(&d);
		ck_assert_int_eq(npd_yaml_load(tu_src_path(rel), s, &d), 0);
		ck_assert_msg(lint(s, &d) == cases[i].n, "%s: %zu warnings", cases[i].file, d.n);
		if (cases[i].path)
			ck_assert_str_eq(d.v[0].path, cases[i].path);
		free(rel);
		npd_store_free(s);
	}
	npd_diags_fini(&d);
}
END_TEST

TU_MAIN("lint", one_dash, dns_trap, selectors_matching_nothing, named_ports, except_outside_cidr,
	examples)
