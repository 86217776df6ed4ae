/* check_compile_incr.c: the incremental compiler against the full one. Random worlds
 * (tu_world.h) take long seeded random event streams (tu_world_events.h); after every
 * event, for both nodes, the ruleset npd_compile_incr builds from its state and the
 * store's change log must print exactly as npd_compile of the same store (rules, sets
 * with comments and entries, chain origins, diagnostics) with the same chain hashes, and
 * every set it does not name as dirty must hold what the previous ruleset's set of that
 * name held, so that the differ told the dirty sets plans exactly what it plans comparing
 * every set. Most worlds run with a bound of 1-3 set members, so pod events take policies
 * over it and back. The streams hold pod events on addresses pods of the node also hold
 * and policy events in namespaces with pods of the node (both counted), on which the
 * chains the incremental compiler keeps between compiles depend.
 *
 * NPD_INCR_SEED fixes the seed (else the clock picks one; printed either way),
 * NPD_INCR_WORLDS and NPD_INCR_STEPS the number of worlds and events per world,
 * NPD_INCR_FIRST the first world to run (to replay a failure at once). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/differ.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "npd/store.h"
#include "testutil.h"
#include "tu_world.h"
#include "tu_world_events.h"

struct node_run {
	const char *node;
	struct npd_compile_opts o;
	struct npd_compile_state *st;
	struct npd_ruleset *prev;
	size_t n_over; /* policies over the set-member bound in the last compile */
};

/* Compiles where a policy went over the set-member bound or back below it. */
static unsigned long crossings;
/* Compiles after events that must rebuild chains of pods the event is not about: a pod
 * event moving an address another pod of the node holds (of them, by a pod not on the
 * node now), and a policy event in a namespace with pods on the node. */
static unsigned long shared_addr, shared_addr_remote, policy_local;

static unsigned long
env_count(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

/* Everything a ruleset and a compile's diagnostics say, as text. */
static void
render(const struct npd_ruleset *rs, const struct npd_diags *d, struct npd_buf *b)
{
	const struct npd_table *t[2] = {&rs->v4, &rs->v6};
	char line[1024];
	size_t i, k;

	npd_buf_reset(b);
	for (k = 0; k < 2; k++) {
		npd_ruleset_format_table(t[k], b);
		for (i = 0; i < t[k]->n_chains; i++) {
			const struct npd_origin *o = &t[k]->chains[i].origin;

			npd_buf_printf(b, "origin %s %d %d %s %s\n", t[k]->chains[i].name,
				       (int)o->kind, (int)o->dir, o->ns ? o->ns : "-",
				       o->name ? o->name : "-");
		}
	}
	npd_ruleset_format_sets(rs, 0, b);
	for (i = 0; i < d->n; i++)
		npd_buf_printf(b, "diag %s\n", npd_diag_format(&d->v[i], line, sizeof(line)));
}

static const char *
first_diff(const char *a, const char *b)
{
	static char out[512];
	size_t i = 0, line = 1, start = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	snprintf(out, sizeof(out), "line %zu: full \"%.120s\" / incremental \"%.120s\"", line,
		 a + start, b + start);
	return out;
}

static bool
is_dirty(const char (*dirty)[NPD_SET_NAMELEN], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(dirty[i], name))
			return true;
	return false;
}

/* A set the compile did not call dirty is the previous ruleset's set of that name. */
static int
cmp_addr(const void *x, const void *y)
{
	return npd_addr_cmp(x, y);
}

/* The state's addresses of the node's pods (the conntrack cut's candidates) are those of
 * the store's pods whose nodeName is the node, found here by walking every pod. */
static void
check_node_addrs(const struct node_run *nr, const struct npd_store *s, const char *where)
{
	struct npd_addr *want = NULL, *got;
	size_t n_want = 0, cap = 0, n_got, n_ns, n_pods, i, j, k;
	const char *const *names = npd_store_ns_names(s, &n_ns);

	for (i = 0; i < n_ns; i++) {
		const struct npd_pod *const *pods = npd_store_pods_in(s, names[i], &n_pods);

		for (j = 0; j < n_pods; j++) {
			if (!pods[j]->node || strcmp(pods[j]->node, nr->node))
				continue;
			for (k = 0; k < pods[j]->n_ips; k++) {
				npd_xgrow(&want, &cap, n_want + 1, sizeof(*want));
				want[n_want++] = pods[j]->ips[k];
			}
		}
	}
	if (n_want)
		qsort(want, n_want, sizeof(*want), cmp_addr);
	got = npd_compile_state_node_addrs(nr->st, &n_got);
	ck_assert_msg(n_got == n_want, "%s, node %s: %zu node addresses, the store has %zu", where,
		      nr->node, n_got, n_want);
	for (i = 0; i < n_got; i++)
		ck_assert_msg(!npd_addr_cmp(&got[i], &want[i]),
			      "%s, node %s: node address %zu differs", where, nr->node, i);
	free(got);
	free(want);
}

static void
check_clean_sets(const struct node_run *nr, const struct npd_ruleset *rs, const char *where)
{
	const char(*dirty)[NPD_SET_NAMELEN];
	size_t n, i, j;
	bool all;

	dirty = npd_compile_state_dirty_sets(nr->st, &n, &all);
	if (all || !nr->prev)
		return;
	for (i = 0; i < rs->n_sets; i++) {
		const struct npd_set *now = &rs->sets[i], *was;

		if (is_dirty(dirty, n, now->name))
			continue;
		was = npd_ruleset_find_set(nr->prev, now->name);
		if (!was)
			continue;
		ck_assert_msg(was->n_entries == now->n_entries, "%s: set %s changed, not dirty",
			      where, now->name);
		for (j = 0; j < now->n_entries; j++)
			ck_assert_msg(!npd_set_entry_cmp(&was->entries[j], &now->entries[j]),
				      "%s: set %s changed, not dirty", where, now->name);
	}
}

static void
plan_text(const struct npd_plan *p, struct npd_buf *b)
{
	size_t i, j;

	npd_buf_reset(b);
	npd_plan_format(p, b);
	for (i = 0; i < p->n_set_ops; i++) {
		const struct npd_set_op *op = &p->set_ops[i];

		npd_buf_printf(b, "\n%d %s", (int)op->kind, op->name);
		for (j = 0; j < op->n_add; j++) {
			npd_buf_adds(b, " +");
			npd_set_entry_format(op->set, &op->add[j], b);
		}
		for (j = 0; j < op->n_del; j++) {
			npd_buf_adds(b, " -");
			npd_set_entry_format(op->set, &op->del[j], b);
		}
	}
}

/* The differ told which sets are dirty plans what it plans comparing every set. */
static void
check_dirty_plan(const struct node_run *nr, const struct npd_ruleset *rs, const char *where)
{
	const char(*dirty)[NPD_SET_NAMELEN];
	struct npd_plan *a, *b;
	struct npd_buf x, y;
	size_t n;
	bool all;

	dirty = npd_compile_state_dirty_sets(nr->st, &n, &all);
	a = npd_differ_plan(nr->prev, rs);
	b = npd_differ_plan_dirty(nr->prev, rs, dirty, n, all);
	npd_buf_init(&x);
	npd_buf_init(&y);
	plan_text(a, &x);
	plan_text(b, &y);
	ck_assert_msg(!strcmp(x.data, y.data), "%s: the dirty-only plan differs:\n%s\n%s", where,
		      x.data, y.data);
	npd_buf_fini(&x);
	npd_buf_fini(&y);
	npd_plan_free(a);
	npd_plan_free(b);
}

static bool
on_node(const struct npd_pod *p, const char *node)
{
	return p && p->node && !strcmp(p->node, node);
}

/* True when a pod of node other than ns/name holds address a. */
static bool
held_by_other(const struct npd_store *s, const char *node, const struct npd_store_change *ch,
	      const struct npd_addr *a)
{
	const char *const *names;
	size_t n_ns, i, j, k;

	names = npd_store_ns_names(s, &n_ns);
	for (i = 0; i < n_ns; i++) {
		const struct npd_pod *const *pods;
		size_t n;

		pods = npd_store_pods_in(s, names[i], &n);
		for (j = 0; j < n; j++) {
			if (!on_node(pods[j], node) ||
			    (!strcmp(pods[j]->ns, ch->ns) && !strcmp(pods[j]->name, ch->name)))
				continue;
			for (k = 0; k < pods[j]->n_ips; k++)
				if (!npd_addr_cmp(&pods[j]->ips[k], a))
					return true;
		}
	}
	return false;
}

/* Counts the steps the chain cache must rebuild more than the event's own pod for. */
static void
count_steps(const struct npd_store *s, const char *node)
{
	const struct npd_store_log *log = npd_store_log_get(s);
	bool shared = false, remote = false, pol = false;
	size_t i, j, n;

	for (i = 0; i < log->n; i++) {
		const struct npd_store_change *ch = &log->v[i];
		const struct npd_pod *pod;

		if (ch->kind == NPD_KIND_POLICY) {
			const struct npd_pod *const *pods = npd_store_pods_in(s, ch->ns, &n);

			for (j = 0; j < n; j++)
				pol = pol || on_node(pods[j], node);
			continue;
		}
		if (ch->kind != NPD_KIND_POD)
			continue;
		pod = npd_store_get_pod(s, ch->ns, ch->name);
		for (j = 0; j < ch->n_old_ips + (pod ? pod->n_ips : 0); j++) {
			const struct npd_addr *a =
			    j < ch->n_old_ips ? &ch->old_ips[j] : &pod->ips[j - ch->n_old_ips];

			if (held_by_other(s, node, ch, a)) {
				shared = true;
				remote = remote || !on_node(pod, node);
			}
		}
	}
	shared_addr += shared;
	shared_addr_remote += remote;
	policy_local += pol;
}

/* Equal chains hash equal: a copied chain's kept hash must be what hashing it gives, or
 * the differ would miss (or invent) a change. full and incr print the same. */
static void
check_hashes(const struct npd_ruleset *full, const struct npd_ruleset *incr, const char *where)
{
	const struct npd_table *f[2] = {&full->v4, &full->v6}, *t[2] = {&incr->v4, &incr->v6};
	size_t k, i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < t[k]->n_chains; i++)
			ck_assert_msg(t[k]->chains[i].hash == f[k]->chains[i].hash,
				      "%s: chain %s: hash %llx, built %llx", where,
				      t[k]->chains[i].name,
				      (unsigned long long)t[k]->chains[i].hash,
				      (unsigned long long)f[k]->chains[i].hash);
}

/* Compiles s both ways for nr and compares; the incremental ruleset becomes nr->prev. */
static void
compare(struct node_run *nr, const struct npd_store *s, const char *where)
{
	struct npd_ruleset *full = NULL, *incr = NULL;
	struct npd_diags df, di, dp;
	struct npd_buf a, b, p0, p1;
	size_t i, n_over;

	npd_diags_init(&df);
	npd_diags_init(&di);
	npd_buf_init(&a);
	npd_buf_init(&b);
	npd_buf_init(&p0);
	npd_buf_init(&p1);
	count_steps(s, nr->node);
	ck_assert_int_eq(npd_compile(s, &nr->o, &df, &full), 0);
	/* The last ruleset shares the state's set entries: it must not change with them. */
	npd_diags_init(&dp);
	render(nr->prev, &dp, &p0);
	ck_assert_msg(npd_compile_incr(nr->st, s, npd_store_log_get(s), &nr->o, &di, &incr) == 0,
		      "%s: the state could not follow the log", where);
	render(nr->prev, &dp, &p1);
	ck_assert_msg(!strcmp(p0.data, p1.data), "%s, node %s: the last ruleset changed, %s", where,
		      nr->node, first_diff(p0.data, p1.data));
	render(full, &df, &a);
	render(incr, &di, &b);
	if (strcmp(a.data, b.data)) {
		fprintf(stderr, "full:\n%s\nincremental:\n%s\n", a.data, b.data);
		ck_abort_msg("%s, node %s: incremental differs from full, %s", where, nr->node,
			     first_diff(a.data, b.data));
	}
	check_hashes(full, incr, where);
	n_over = 0;
	for (i = 0; i < di.n; i++)
		if (di.v[i].limit && !strcmp(di.v[i].limit, "set_members"))
			n_over++;
	if (n_over != nr->n_over)
		crossings++;
	nr->n_over = n_over;
	check_clean_sets(nr, incr, where);
	check_dirty_plan(nr, incr, where);
	check_node_addrs(nr, s, where);
	npd_ruleset_free(nr->prev);
	nr->prev = incr;
	npd_ruleset_free(full);
	npd_buf_fini(&a);
	npd_buf_fini(&b);
	npd_buf_fini(&p0);
	npd_buf_fini(&p1);
	npd_diags_fini(&df);
	npd_diags_fini(&di);
	npd_diags_fini(&dp);
}

static void
run_world(uint64_t seed, unsigned long world, unsigned long steps)
{
	struct node_run nr[2] = {{.node = "node1"}, {.node = "node2"}};
	struct tu_churn c;
	struct npd_store *s = tu_churn_init(&c, seed);
	struct npd_buf what, where;
	unsigned long step;
	int k;

	npd_buf_init(&what);
	npd_buf_init(&where);
	npd_store_log_enable(s, true);
	for (k = 0; k < 2; k++) {
		struct npd_ruleset *rs = NULL;

		npd_compile_opts_init(&nr[k].o);
		nr[k].o.node_name = nr[k].node;
		/* Small enough that some random policies exceed it (the limit diagnostic). */
		if (world % 2)
			nr[k].o.max_rules_per_policy = 6;
		/* Low enough (a world has at most 8 pods) that pod events take sets across it
		 * both ways: the policies using them fail closed, then admit again. */
		if (world % 4)
			nr[k].o.max_set_members = (uint32_t)(world % 4);
		nr[k].st = npd_compile_state_new();
		ck_assert_int_eq(npd_compile_full(nr[k].st, s, &nr[k].o, NULL, &rs), 0);
		nr[k].prev = rs;
	}
	npd_store_log_clear(s);
	for (step = 0; step < steps; step++) {
		tu_churn_step(&c, s, &what);
		npd_buf_reset(&where);
		npd_buf_printf(&where, "world %lu (seed %llu) step %lu [%s]", world,
			       (unsigned long long)seed, step, what.data);
		for (k = 0; k < 2; k++)
			compare(&nr[k], s, where.data);
		npd_store_log_clear(s);
	}
	for (k = 0; k < 2; k++) {
		npd_ruleset_free(nr[k].prev);
		npd_compile_state_free(nr[k].st);
	}
	npd_store_free(s);
	npd_buf_fini(&what);
	npd_buf_fini(&where);
}

START_TEST(random_event_streams)
{
	uint64_t seed = tu_seed_from_env("NPD_INCR_SEED"), r;
	unsigned long worlds = env_count("NPD_INCR_WORLDS", 80);
	unsigned long steps = env_count("NPD_INCR_STEPS", 100);
	unsigned long first = env_count("NPD_INCR_FIRST", 0), w;

	printf("check_compile_incr: seed %llu, %lu worlds x %lu events (NPD_INCR_SEED=%llu "
	       "replays)\n",
	       (unsigned long long)seed, worlds, steps, (unsigned long long)seed);
	fflush(stdout);
	r = seed;
	for (w = 0; w < worlds; w++) {
		uint64_t ws = tu_rand(&r);

		if (w >= first)
			run_world(ws, w, steps);
	}
	printf("check_compile_incr: %lu compiles crossed the set-member bound\n", crossings);
	printf("check_compile_incr: %lu compiles after a pod event on an address another local "
	       "pod holds (%lu by a pod not local), %lu after a policy event in a namespace "
	       "with local pods\n",
	       shared_addr, shared_addr_remote, policy_local);
	ck_assert_msg(crossings > 0, "no event took a policy across the set-member bound");
	ck_assert_msg(shared_addr_remote > 0 && policy_local > 0,
		      "no event the chains of other pods depend on");
}
END_TEST

/* Other options between two compiles with no change in between: the kept chains hold the
 * old mark, log rate and bounds, so the incremental compile must build anew. */
START_TEST(options_change)
{
	struct node_run nr = {.node = "node1"};
	struct tu_churn c;
	struct npd_store *s = tu_churn_init(&c, 7);
	struct npd_buf what;
	int i;

	npd_buf_init(&what);
	npd_store_log_enable(s, true);
	npd_compile_opts_init(&nr.o);
	nr.o.node_name = nr.node;
	nr.st = npd_compile_state_new();
	ck_assert_int_eq(npd_compile_full(nr.st, s, &nr.o, NULL, &nr.prev), 0);
	npd_store_log_clear(s);
	for (i = 0; i < 40; i++) {
		tu_churn_step(&c, s, &what);
		compare(&nr, s, what.data);
		npd_store_log_clear(s);
		switch (i % 4) {
		case 0:
			nr.o.mark = nr.o.mark == 0x10000 ? 0x4000 : 0x10000;
			break;
		case 1:
			nr.o.log_per_sec = nr.o.log_per_sec ? 0 : 10;
			nr.o.nflog_group++;
			break;
		case 2:
			nr.o.max_set_members = nr.o.max_set_members == 1 ? 1000 : 1;
			break;
		default:
			nr.o.max_rules_per_policy = nr.o.max_rules_per_policy == 2 ? 4096 : 2;
			break;
		}
		compare(&nr, s, "options changed");
	}
	npd_ruleset_free(nr.prev);
	npd_compile_state_free(nr.st);
	npd_store_free(s);
	npd_buf_fini(&what);
}
END_TEST

/* A kept policy chain going over the set bound makes only the sets building would have
 * made before it stopped: the named-port set its later rule shares with a2 is then a2's,
 * comment included. */
START_TEST(copy_over_bound_stops_as_building)
{
	struct node_run nr = {.node = "node1"};
	struct npd_store *s = npd_store_new();
	struct npd_policy *p;
	struct npd_pod *web;

	npd_store_add_namespace(s, tu_ns("a", "team=x"));
	web = tu_pod("a", "web", "app=x", "10.0.0.1", "node1");
	tu_pod_port(web, "http", NPD_PROTO_TCP, 80);
	npd_store_add_pod(s, web);
	npd_store_add_pod(s, tu_pod("a", "db1", "role=db", "10.0.1.1", "node2"));
	p = tu_policy("a", "a1", "app=x", true, false);
	tu_peer_sel(tu_rule(p, false), NULL, "role=db");
	tu_port(tu_rule(p, false), NPD_PROTO_TCP, 0, 0, "http");
	npd_store_add_policy(s, p);
	p = tu_policy("a", "a2", "app=x", true, false);
	tu_port(tu_rule(p, false), NPD_PROTO_TCP, 0, 0, "http");
	npd_store_add_policy(s, p);
	npd_store_log_enable(s, true);
	npd_compile_opts_init(&nr.o);
	nr.o.node_name = nr.node;
	nr.o.max_set_members = 1;
	nr.st = npd_compile_state_new();
	ck_assert_int_eq(npd_compile_full(nr.st, s, &nr.o, NULL, &nr.prev), 0);
	npd_store_log_clear(s);
	npd_store_add_pod(s, tu_pod("a", "db2", "role=db", "10.0.1.2", "node2"));
	compare(&nr, s, "a1 over the bound");
	ck_assert_uint_eq(nr.n_over, 1);
	npd_ruleset_free(nr.prev);
	npd_compile_state_free(nr.st);
	npd_store_free(s);
}
END_TEST

/* The state refuses what it cannot follow instead of compiling something else. */
START_TEST(stale_state_is_refused)
{
	struct npd_store *s = tu_store_frontend_backend();
	struct npd_compile_state *st = npd_compile_state_new();
	struct npd_compile_opts o;
	struct npd_ruleset *rs = NULL;

	npd_compile_opts_init(&o);
	o.node_name = "node1";
	/* A store that does not record says so, even after a clear. */
	npd_store_log_clear(s);
	ck_assert(npd_store_log_get(s)->overflow);
	npd_store_log_enable(s, true);
	ck_assert_int_eq(npd_compile_incr(st, s, npd_store_log_get(s), &o, NULL, &rs), -ESTALE);
	ck_assert_int_eq(npd_compile_full(st, s, &o, NULL, &rs), 0);
	npd_ruleset_free(rs);
	rs = NULL;
	/* Enabling starts in overflow: what came before is unknown. */
	ck_assert(npd_store_log_get(s)->overflow);
	ck_assert_int_eq(npd_compile_incr(st, s, npd_store_log_get(s), &o, NULL, &rs), -ESTALE);
	npd_store_log_clear(s);
	ck_assert_int_eq(npd_compile_incr(st, s, npd_store_log_get(s), &o, NULL, &rs), 0);
	npd_ruleset_free(rs);
	rs = NULL;
	/* A change the state never saw: the log was cleared without a compile. */
	npd_store_add_namespace(s, tu_ns("extra", "team=x"));
	npd_store_log_clear(s);
	ck_assert_int_eq(npd_compile_incr(st, s, npd_store_log_get(s), &o, NULL, &rs), -ESTALE);
	/* Another node's state. */
	ck_assert_int_eq(npd_compile_full(st, s, &o, NULL, &rs), 0);
	npd_ruleset_free(rs);
	rs = NULL;
	npd_store_log_clear(s);
	o.node_name = "node2";
	ck_assert_int_eq(npd_compile_incr(st, s, npd_store_log_get(s), &o, NULL, &rs), -ESTALE);
	ck_assert_ptr_null(rs);
	npd_compile_state_free(st);
	npd_store_free(s);
}
END_TEST

/* Past NPD_STORE_LOG_MAX changes the log keeps only that it overflowed. */
START_TEST(log_overflows)
{
	struct npd_store *s = npd_store_new();
	char name[32];
	int i;

	npd_store_log_enable(s, true);
	npd_store_log_clear(s);
	npd_store_add_namespace(s, tu_ns("a", "x=1"));
	ck_assert_uint_eq(npd_store_log_get(s)->n, 1);
	ck_assert_ptr_null(npd_store_log_get(s)->v[0].ns);
	ck_assert_str_eq(npd_store_log_get(s)->v[0].name, "a");
	for (i = 0; i <= NPD_STORE_LOG_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		npd_store_add_pod(s, tu_pod("a", name, "app=x", "10.0.0.1", "n1"));
	}
	ck_assert(npd_store_log_get(s)->overflow);
	ck_assert_uint_eq(npd_store_log_get(s)->n, 0);
	npd_store_log_clear(s);
	ck_assert(!npd_store_log_get(s)->overflow);
	ck_assert_uint_eq(npd_store_log_get(s)->base_gen, npd_store_generation(s));
	npd_store_del(s, NPD_KIND_POD, "a", "p0");
	ck_assert_uint_eq(npd_store_log_get(s)->n, 1);
	ck_assert_uint_eq(npd_store_log_get(s)->v[0].n_old_ips, 1);
	npd_store_free(s);
}
END_TEST

/* A pod event re-tests the sets its labels can join; one it does not join (here: it has
 * app=x but not tier=db, which the set's selector also needs) is left as it was, neither
 * copied away from the last ruleset nor called dirty, so the differ skips it. */
START_TEST(untouched_set_is_not_dirty)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "p", "", true, false);
	struct npd_compile_state *st = npd_compile_state_new();
	struct npd_ruleset *first = NULL, *rs = NULL;
	const char(*dirty)[NPD_SET_NAMELEN];
	struct npd_compile_opts o;
	size_t n, i;
	bool all;

	npd_compile_opts_init(&o);
	o.node_name = "node1";
	npd_store_add_pod(s, tu_pod("a", "local", "", "10.0.0.1", "node1"));
	npd_store_add_pod(s, tu_pod("a", "db", "app=x,tier=db", "10.0.0.2", "node2"));
	tu_peer_sel(tu_rule(p, false), NULL, "app=x,tier=db");
	npd_store_add_policy(s, p);
	npd_store_log_enable(s, true);
	ck_assert_int_eq(npd_compile_full(st, s, &o, NULL, &first), 0);
	npd_store_log_clear(s);
	npd_store_add_pod(s, tu_pod("a", "web", "app=x", "10.0.0.3", "node2"));
	ck_assert_int_eq(npd_compile_incr(st, s, npd_store_log_get(s), &o, NULL, &rs), 0);
	dirty = npd_compile_state_dirty_sets(st, &n, &all);
	ck_assert(!all);
	for (i = 0; i < n; i++) {
		const struct npd_set *set = npd_ruleset_find_set(rs, dirty[i]);

		/* Only the local pods' sets, which the state does not keep, may be named. */
		ck_assert_msg(set && set->comment && !strncmp(set->comment, "local ", 6),
			      "%s called dirty", dirty[i]);
	}
	for (i = 0; i < rs->n_sets; i++)
		if (rs->sets[i].block)
			ck_assert_ptr_eq(rs->sets[i].block,
					 npd_ruleset_find_set(first, rs->sets[i].name)->block);
	npd_ruleset_free(first);
	npd_ruleset_free(rs);
	npd_compile_state_free(st);
	npd_store_free(s);
}
END_TEST

/* Thousands of compiles: beyond check's default per-test timeout under ASan. */
static void
extra(TCase *tc)
{
	tcase_set_timeout(tc, 300);
}

TU_MAIN_WITH("compile_incr", extra, random_event_streams, options_change,
	     copy_over_bound_stops_as_building, stale_state_is_refused, log_overflows,
	     untouched_set_is_not_dirty)
