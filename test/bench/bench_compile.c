/* bench_compile.c: compiler and differ cost on a synthetic cluster: 10,000 pods in 500
 * namespaces, 2,000 policies (default deny, same-namespace peers, cross-namespace peers
 * with a named port, egress ipBlock plus DNS), 110 pods on the benchmarked node. Times a
 * full compile + diff, one remote pod change, and one policy change, each also through the
 * incremental compiler (its state, the store's change log, the dirty-only differ); counts
 * rules, sets and entries; prints peak RSS. Usage: bench_compile [ROUNDS] (default 7;
 * medians). */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/clock.h"
#include "npd/compile.h"
#include "npd/differ.h"
#include "npd/mem.h"
#include "npd/store.h"

#define N_NS 500
#define PODS_PER_NS 20
#define NODE_STRIDE 91 /* every 91st pod is on the benchmarked node: 110 of 10,000 */
#define BENCH_NODE "node-0"

/* Sets key to prefix followed by the number v, e.g. app=a3. */
static void
labels_set(struct npd_labels *l, const char *k, char prefix, int v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%c%d", prefix, v);
	npd_labels_set(l, k, buf);
}

static struct npd_pod *
make_pod(int ns, int j, int app)
{
	struct npd_pod *p = npd_pod_new();
	int k = ns * PODS_PER_NS + j;

	p->ns = npd_xasprintf("ns-%03d", ns);
	p->name = npd_xasprintf("pod-%02d", j);
	p->uid = npd_xasprintf("uid-%d", k);
	p->node =
	    k % NODE_STRIDE == 0 ? npd_xstrdup(BENCH_NODE) : npd_xasprintf("node-%d", 1 + k % 90);
	p->phase = NPD_PHASE_RUNNING;
	labels_set(&p->labels, "app", 'a', app);
	labels_set(&p->labels, "tier", 't', j % 3);
	p->ips = npd_xcalloc(1, sizeof(*p->ips));
	p->ips[0].family = AF_INET;
	p->ips[0].a[0] = 10;
	p->ips[0].a[1] = (uint8_t)(16 + k / 65536);
	p->ips[0].a[2] = (uint8_t)(k / 256);
	p->ips[0].a[3] = (uint8_t)(k % 256);
	p->n_ips = 1;
	p->ports = npd_xcalloc(1, sizeof(*p->ports));
	p->ports[0].name = npd_xstrdup("http");
	p->ports[0].port = 8080;
	p->ports[0].proto = NPD_PROTO_TCP;
	p->n_ports = 1;
	return p;
}

static struct npd_policy *
make_policy(int ns, int which, int variant)
{
	struct npd_policy *p = npd_policy_new();
	struct npd_policy_rule *r;
	struct npd_peer *peer;
	struct npd_port *port;

	p->ns = npd_xasprintf("ns-%03d", ns);
	p->name = npd_xasprintf("pol-%d", which);
	p->isolates_ingress = which != 3;
	p->isolates_egress = which == 3;
	if (which == 0)
		return p; /* default deny ingress */
	r = p->ingress = npd_xcalloc(1, sizeof(*r));
	if (which == 3) {
		p->ingress = NULL;
		p->egress = r;
		p->n_egress = 1;
	} else {
		p->n_ingress = 1;
	}
	labels_set(&p->pod_sel.match_labels, "app", 'a', (ns + which + variant) % 5);
	peer = r->peers = npd_xcalloc(2, sizeof(*peer));
	port = r->ports = npd_xcalloc(2, sizeof(*port));
	r->n_peers = 1;
	r->n_ports = 1;
	port[0].proto = NPD_PROTO_TCP;
	port[0].has_port = true;
	switch (which) {
	case 1: /* same namespace, one app */
		peer->kind = NPD_PEER_SELECTOR;
		peer->has_pod_sel = true;
		labels_set(&peer->pod_sel.match_labels, "app", 'a', (ns + 1 + variant) % 5);
		port[0].port = 80;
		break;
	case 2: /* one app in a team's namespaces, plain and named port */
		peer->kind = NPD_PEER_SELECTOR;
		peer->has_ns_sel = peer->has_pod_sel = true;
		labels_set(&peer->ns_sel.match_labels, "team", 't', ns % 20);
		labels_set(&peer->pod_sel.match_labels, "app", 'a', (ns + variant) % 5);
		port[0].port = 443;
		port[1].proto = NPD_PROTO_TCP;
		port[1].has_port = true;
		port[1].name = npd_xstrdup("http");
		r->n_ports = 2;
		break;
	default: /* egress: a block with an except, and the DNS pods */
		peer[0].kind = NPD_PEER_IPBLOCK;
		npd_cidr_parse("10.0.0.0/8", true, &peer[0].cidr);
		peer[0].except = npd_xcalloc(1, sizeof(*peer[0].except));
		npd_cidr_parse("10.1.0.0/16", true, &peer[0].except[0]);
		peer[0].n_except = 1;
		peer[1].kind = NPD_PEER_SELECTOR;
		peer[1].has_ns_sel = peer[1].has_pod_sel = true;
		npd_labels_set(&peer[1].ns_sel.match_labels, "kubernetes.io/metadata.name",
			       "ns-000");
		npd_labels_set(&peer[1].pod_sel.match_labels, "app", "a0");
		r->n_peers = 2;
		port[0].proto = NPD_PROTO_UDP;
		port[0].port = 53;
		break;
	}
	return p;
}

static struct npd_store *
make_cluster(void)
{
	struct npd_store *s = npd_store_new();
	int i, j;

	for (i = 0; i < N_NS; i++) {
		struct npd_namespace *ns = npd_namespace_new();

		ns->name = npd_xasprintf("ns-%03d", i);
		npd_labels_set(&ns->labels, "kubernetes.io/metadata.name", ns->name);
		labels_set(&ns->labels, "team", 't', i % 20);
		npd_store_add_namespace(s, ns);
		for (j = 0; j < PODS_PER_NS; j++)
			npd_store_add_pod(s, make_pod(i, j, j % 5));
		for (j = 0; j < 4; j++)
			npd_store_add_policy(s, make_policy(i, j, 0));
	}
	return s;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
median_ms(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (double)v[n / 2] / 1e6;
}

/* Set: compile incrementally from the store's change log, diff only the dirty sets. */
static struct npd_compile_state *incr;

static struct npd_ruleset *
compile(struct npd_store *s)
{
	struct npd_compile_opts o;
	struct npd_ruleset *rs = NULL;
	int rc;

	npd_compile_opts_init(&o);
	o.node_name = BENCH_NODE;
	if (!incr) {
		rc = npd_compile(s, &o, NULL, &rs);
	} else {
		rc = npd_compile_incr(incr, s, npd_store_log_get(s), &o, NULL, &rs);
		if (rc == -ESTALE)
			rc = npd_compile_full(incr, s, &o, NULL, &rs);
		npd_store_log_clear(s);
	}
	if (rc < 0)
		abort();
	return rs;
}

static struct npd_plan *
plan(const struct npd_ruleset *applied, const struct npd_ruleset *rs)
{
	const char(*dirty)[NPD_SET_NAMELEN];
	size_t n;
	bool all;

	if (!incr)
		return npd_differ_plan(applied, rs);
	dirty = npd_compile_state_dirty_sets(incr, &n, &all);
	return npd_differ_plan_dirty(applied, rs, dirty, n, all);
}

/* Compiles s, diffs against *applied, replaces *applied; adds the times, returns the plan
 * summary in b. */
static void
step(struct npd_store *s, struct npd_ruleset **applied, uint64_t *t_compile, uint64_t *t_diff,
     struct npd_buf *b)
{
	uint64_t t0 = npd_now_ns(), t1, t2;
	struct npd_ruleset *rs = compile(s);
	struct npd_plan *p;

	t1 = npd_now_ns();
	p = plan(*applied, rs);
	t2 = npd_now_ns();
	*t_compile = t1 - t0;
	*t_diff = t2 - t1;
	npd_buf_reset(b);
	npd_plan_format(p, b);
	npd_plan_free(p);
	npd_ruleset_free(*applied);
	*applied = rs;
}

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7, i;
	uint64_t *tc, *td, t0, t_store;
	struct npd_ruleset *applied = NULL;
	struct npd_store *s;
	struct npd_buf b;
	struct rusage ru;
	size_t local = 0, n_chains;
	int mode;

	if (rounds < 1)
		rounds = 1;
	tc = npd_xcalloc((size_t)rounds, sizeof(*tc));
	td = npd_xcalloc((size_t)rounds, sizeof(*td));
	npd_buf_init(&b);
	t0 = npd_now_ns();
	s = make_cluster();
	t_store = npd_now_ns() - t0;
	for (i = 0; i < N_NS * PODS_PER_NS; i++)
		local += i % NODE_STRIDE == 0;
	printf("cluster: %zu namespaces, %zu pods, %zu policies, %zu pods on %s (store built "
	       "in %.1f ms)\n",
	       npd_store_count(s, NPD_KIND_NAMESPACE), npd_store_count(s, NPD_KIND_POD),
	       npd_store_count(s, NPD_KIND_POLICY), local, BENCH_NODE, (double)t_store / 1e6);

	for (i = 0; i < rounds; i++) {
		npd_ruleset_free(applied);
		applied = NULL;
		step(s, &applied, &tc[i], &td[i], &b);
	}
	n_chains = applied->v4.n_chains + applied->v6.n_chains;
	printf("full:          compile %7.2f ms  diff %6.3f ms  plan: %s\n", median_ms(tc, rounds),
	       median_ms(td, rounds), b.data);
	printf("ruleset:       %zu rules in %zu chains, %zu sets, %zu set entries\n",
	       npd_ruleset_rule_count(applied), n_chains, applied->n_sets,
	       npd_ruleset_entry_count(applied));

	for (mode = 0; mode < 2; mode++) {
		const char *how = mode ? " (incremental)" : "";

		if (mode) {
			incr = npd_compile_state_new();
			npd_store_log_enable(s, true);
			t0 = npd_now_ns();
			step(s, &applied, &tc[0], &td[0], &b);
			printf("incremental:   full compile building the state %.2f ms\n",
			       (double)(npd_now_ns() - t0) / 1e6);
		}
		/* One remote pod that is a member of some set, relabelled back and forth. */
		{
			const struct npd_pod *victim = NULL;
			int ns = 0, j = 0, app = 0;
			size_t k;

			for (k = 0; k < applied->n_sets && !victim; k++) {
				const struct npd_set *set = &applied->sets[k];

				if (set->type == NPD_SET_HASH_IP && set->n_entries)
					victim = npd_store_pod_by_ip(s, &set->entries[0].addr);
			}
			if (!victim || !strcmp(victim->node, BENCH_NODE))
				abort();
			sscanf(victim->ns, "ns-%d", &ns);
			sscanf(victim->name, "pod-%d", &j);
			app = j % 5;
			for (i = 0; i < rounds; i++) {
				/* app 9 is in no selector: the pod leaves its sets, then returns */
				npd_store_add_pod(s, make_pod(ns, j, i % 2 ? app : 9));
				step(s, &applied, &tc[i], &td[i], &b);
				if (i == 0)
					printf("pod change:    first plan: %s\n", b.data);
			}
		}
		printf("pod change:    compile %7.2f ms  diff %6.3f ms  plan: %s%s\n",
		       median_ms(tc, rounds), median_ms(td, rounds), b.data, how);

		/* The default-deny policy of the first local pod's namespace gains, loses a rule. */
		for (i = 0; i < rounds; i++) {
			struct npd_policy *p = make_policy(0, 0, 0);

			if (i % 2 == 0) {
				struct npd_policy *q = make_policy(0, 1, 0);

				p->ingress = q->ingress;
				p->n_ingress = q->n_ingress;
				q->ingress = NULL;
				q->n_ingress = 0;
				npd_policy_free(q);
			}
			npd_store_add_policy(s, p);
			step(s, &applied, &tc[i], &td[i], &b);
			if (i == 0)
				printf("policy change: first plan: %s\n", b.data);
		}
		printf("policy change: compile %7.2f ms  diff %6.3f ms  plan: %s%s\n",
		       median_ms(tc, rounds), median_ms(td, rounds), b.data, how);
	}
	npd_compile_state_free(incr);

	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS:      %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
	npd_ruleset_free(applied);
	npd_store_free(s);
	npd_buf_fini(&b);
	free(tc);
	free(td);
	return 0;
}
