/* check_applied.c: the applied state against the fake backend as the kernel, no root.
 * Discovery leaves every chain and set of unknown content, so the first plan rewrites them
 * all; a restart with stale chains and sets deletes them in the same commit; drift of each
 * kind, made by playing another writer on the fake, is found, named and repaired; a failed
 * apply leaves nothing known. After every repair the fake's listing is compared with the
 * desired ruleset, an independent account of what the kernel holds. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npd/applied.h"
#include "npd/backend.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/mem.h"
#include "testutil.h"

static const uint8_t families[2] = {AF_INET, AF_INET6};

static struct npd_store *
cluster(bool with_mon)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p;

	npd_store_add_namespace(s, tu_ns("shop", NULL));
	npd_store_add_pod(s, tu_pod("shop", "web-0", "app=web", "10.0.0.1,fd00::1", "node1"));
	npd_store_add_pod(s, tu_pod("shop", "cli-0", "app=cli", "10.0.1.1,fd00::11", "node2"));
	npd_store_add_pod(s, tu_pod("shop", "mon-0", "app=mon", "10.0.2.1", "node3"));
	p = tu_policy("shop", "web-from-cli", "app=web", true, false);
	tu_peer_sel(tu_rule(p, false), NULL, "app=cli");
	npd_store_add_policy(s, p);
	if (with_mon) {
		p = tu_policy("shop", "web-from-mon", "app=web", true, false);
		tu_peer_sel(tu_rule(p, false), NULL, "app=mon");
		npd_store_add_policy(s, p);
	}
	return s;
}

static struct npd_ruleset *
desired(bool with_mon)
{
	struct npd_store *s = cluster(with_mon);
	struct npd_ruleset *rs = tu_compile(s);

	npd_store_free(s);
	return rs;
}

/* The fake table backend and the fake set backend, writing one log. */
struct fake {
	struct npd_backend *t;
	struct npd_set_backend *s;
	struct npd_buf log;
};

static struct fake *
fake_open(void)
{
	struct fake *b = npd_xcalloc(1, sizeof(*b));
	struct npd_backend_opts opts = {.fake_log = &b->log};

	npd_buf_init(&b->log);
	ck_assert_int_eq(npd_backend_fake.open(&opts, &b->t, NULL), 0);
	ck_assert_int_eq(npd_set_backend_fake.open(&opts, &b->s, NULL), 0);
	return b;
}

static void
fake_close(struct fake *b)
{
	npd_set_backend_fake.close(b->s);
	npd_backend_fake.close(b->t);
	npd_buf_fini(&b->log);
	free(b);
}

/* One sync as the agent runs it: plan, apply, then commit (ap takes want) or forget (the
 * caller keeps want). The plan is kept for the caller's checks when keep is non-NULL. */
static int
sync_to(struct npd_applied *ap, struct fake *b, struct npd_ruleset *want, struct npd_plan **keep)
{
	struct npd_plan *p = npd_applied_plan(ap, want);
	int rc =
	    npd_backend_apply(&npd_backend_fake, b->t, &npd_set_backend_fake, b->s, p, NULL, NULL);

	if (keep)
		*keep = p;
	else
		npd_plan_free(p);
	if (rc == 0)
		npd_applied_commit(ap, want);
	else
		npd_applied_forget(ap);
	return rc;
}

static void
list(struct fake *b, struct npd_owned *o)
{
	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(
	    npd_backend_list_owned(&npd_backend_fake, b->t, &npd_set_backend_fake, b->s, o, NULL),
	    0);
}

/* The fake holds exactly the chains (with their rule counts), sets (with their entry
 * counts) and hooks of rs. */
static void
assert_kernel_is(struct fake *b, const struct npd_ruleset *rs)
{
	struct npd_owned o;
	size_t i, f, n_chains = 0;

	list(b, &o);
	for (i = 0; i < o.n_chains; i++) {
		const struct npd_chain *c = npd_ruleset_find_chain(
		    npd_ruleset_get_table(rs, o.chains[i].family), o.chains[i].name);

		ck_assert_msg(c, "stray chain %s", o.chains[i].name);
		ck_assert_uint_eq(c->n_rules, o.chains[i].n_rules);
	}
	for (f = 0; f < 2; f++) {
		const struct npd_table *t = npd_ruleset_get_table(rs, families[f]);
		const struct npd_owned_family *of = npd_owned_get_family(&o, families[f]);

		n_chains += t->n_chains;
		ck_assert(npd_hooks_equal(t->hooks, t->n_hooks, of->hooks, of->n_hooks));
	}
	ck_assert_uint_eq(o.n_chains, n_chains);
	ck_assert_uint_eq(o.n_sets, rs->n_sets);
	for (i = 0; i < o.n_sets; i++) {
		const struct npd_set *s = npd_ruleset_find_set(rs, o.sets[i].name);

		ck_assert_msg(s, "stray set %s", o.sets[i].name);
		ck_assert_uint_eq(s->n_entries, o.sets[i].n_entries);
		ck_assert_int_eq(s->counters, o.sets[i].counters);
	}
	npd_owned_fini(&o);
}

/* Counts the set operations of kind in p. */
static size_t
n_ops(const struct npd_plan *p, enum npd_set_op_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_set_ops; i++)
		n += p->set_ops[i].kind == kind;
	return n;
}

START_TEST(discovery_makes_everything_unknown)
{
	struct npd_ruleset *want = desired(true), *again = desired(true);
	struct fake *b = fake_open();
	struct npd_applied *ap = npd_applied_new(), *restarted = npd_applied_new();
	struct npd_owned o;
	struct npd_plan *p;
	size_t f;

	ck_assert(!npd_applied_is_known(ap));
	ck_assert_int_eq(npd_applied_chain_state(ap, AF_INET, "NPD-FORWARD"), NPD_APPLIED_UNKNOWN);
	ck_assert_int_eq(sync_to(ap, b, want, NULL), 0);
	assert_kernel_is(b, want);
	ck_assert_int_eq(npd_applied_chain_state(ap, AF_INET, "NPD-FORWARD"), NPD_APPLIED_KNOWN);

	/* A restart: same content in the kernel, but nothing says so. */
	list(b, &o);
	npd_applied_discover(restarted, &o);
	npd_owned_fini(&o);
	ck_assert(npd_applied_is_known(restarted));
	for (f = 0; f < 2; f++) {
		const struct npd_table *t = npd_ruleset_get_table(again, families[f]);
		size_t i;

		ck_assert(t->n_chains > 0);
		ck_assert(npd_applied_hooks_known(restarted, families[f]));
		for (i = 0; i < t->n_chains; i++)
			ck_assert_int_eq(
			    npd_applied_chain_state(restarted, families[f], t->chains[i].name),
			    NPD_APPLIED_UNKNOWN);
	}
	ck_assert_int_eq(npd_applied_set_state(restarted, again->sets[0].name),
			 NPD_APPLIED_UNKNOWN);
	ck_assert_int_eq(npd_applied_set_state(restarted, "npd-none"), NPD_APPLIED_ABSENT);
	ck_assert_uint_eq(npd_applied_known(restarted)->n_sets, 0);

	/* Unknown content forces a rewrite of all of it, one commit per family. */
	npd_backend_fake_reset(b->t);
	ck_assert_int_eq(sync_to(restarted, b, again, &p), 0);
	ck_assert(p->v4.commit && p->v6.commit);
	ck_assert_uint_eq(p->v4.n_write, again->v4.n_chains);
	ck_assert_uint_eq(p->v6.n_write, again->v6.n_chains);
	ck_assert_uint_eq(p->v4.n_del + p->v6.n_del, 0);
	ck_assert_uint_eq(n_ops(p, NPD_SETOP_CREATE), again->n_sets);
	ck_assert_uint_eq(p->n_set_ops, again->n_sets);
	npd_plan_free(p);
	assert_kernel_is(b, again);

	/* Now known: the same desired state plans nothing. */
	again = desired(true);
	p = npd_applied_plan(restarted, again);
	ck_assert(npd_plan_is_empty(p));
	npd_plan_free(p);
	npd_ruleset_free(again);
	npd_applied_free(restarted);
	npd_applied_free(ap);
	fake_close(b);
}
END_TEST

START_TEST(restart_removes_stale_chains_and_sets)
{
	struct npd_ruleset *old = desired(true), *now = desired(false);
	struct fake *b = fake_open();
	struct npd_applied *ap = npd_applied_new();
	struct npd_owned o;
	struct npd_plan *p;
	size_t i, stale_sets = 0, stale_chains = 0;

	for (i = 0; i < old->n_sets; i++)
		stale_sets += !npd_ruleset_find_set(now, old->sets[i].name);
	for (i = 0; i < old->v4.n_chains; i++)
		stale_chains += !npd_ruleset_find_chain(&now->v4, old->v4.chains[i].name);
	ck_assert(stale_sets > 0 && stale_chains > 0);
	ck_assert_int_eq(sync_to(ap, b, old, NULL), 0);
	npd_applied_free(ap); /* the previous run ends; old goes with it */

	ap = npd_applied_new();
	list(b, &o);
	npd_applied_discover(ap, &o);
	npd_owned_fini(&o);
	npd_backend_fake_reset(b->t);
	ck_assert_int_eq(sync_to(ap, b, now, &p), 0);
	/* One commit per family writes the new and deletes the stale, so the old rules hold
	 * until the new ones replace them. */
	ck_assert_uint_eq(p->v4.n_del, stale_chains);
	ck_assert_uint_eq(n_ops(p, NPD_SETOP_DESTROY), stale_sets);
	ck_assert_uint_eq(p->set_ops[p->n_set_ops - 1].kind, NPD_SETOP_DESTROY);
	npd_plan_free(p);
	ck_assert_ptr_nonnull(strstr(npd_backend_fake_log(b->t), "commit v4 write="));
	assert_kernel_is(b, now);
	npd_applied_free(ap);
	fake_close(b);
}
END_TEST

/* Another writer's changes to the fake, as iptables and ipset commands would make them. */
static void
other_commit(struct fake *b, uint8_t family, const struct npd_chain *write, const char *del,
	     const struct npd_table *hooks)
{
	struct npd_table_change chg;
	char names[1][NPD_CHAIN_NAMELEN];

	memset(&chg, 0, sizeof(chg));
	chg.family = family;
	chg.commit = true;
	chg.desired = hooks;
	if (write) {
		chg.write = &write;
		chg.n_write = 1;
	}
	if (del) {
		snprintf(names[0], sizeof(names[0]), "%s", del);
		chg.del = names;
		chg.n_del = 1;
	}
	ck_assert_int_eq(npd_backend_fake.commit(b->t, &chg, NULL), 0);
}

enum drift_case {
	CHAIN_DELETED,
	CHAIN_FLUSHED,
	CHAIN_EXTRA,
	HOOKS_DELETED,
	SET_DESTROYED,
	SET_ENTRY_ADDED,
	SET_EXTRA,
	SET_COUNTERS_FLIPPED,
	N_CASES,
};

/* Makes drift c in the fake and returns the name it concerns (NULL: hooks). */
static const char *
make_drift(struct fake *b, const struct npd_ruleset *rs, enum drift_case c,
	   struct npd_ruleset *scratch)
{
	const struct npd_chain *ch = &rs->v4.chains[rs->v4.n_chains - 1];
	const struct npd_set *set = &rs->sets[0];
	struct npd_set_op op;
	struct npd_set_entry e;

	switch (c) {
	case CHAIN_DELETED:
		other_commit(b, AF_INET, NULL, ch->name, &rs->v4);
		return ch->name;
	case CHAIN_FLUSHED:
		other_commit(b, AF_INET, npd_ruleset_add_chain(&scratch->v4, ch->name), NULL,
			     &rs->v4);
		return ch->name;
	case CHAIN_EXTRA:
		other_commit(b, AF_INET6, npd_ruleset_add_chain(&scratch->v6, "NPD-STRAY"), NULL,
			     &rs->v6);
		return "NPD-STRAY";
	case HOOKS_DELETED:
		other_commit(b, AF_INET6, NULL, NULL, NULL);
		return NULL;
	case SET_DESTROYED:
		ck_assert_int_eq(npd_set_backend_fake.destroy(b->s, set->name, NULL), 0);
		return set->name;
	case SET_ENTRY_ADDED:
		memset(&op, 0, sizeof(op));
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(npd_addr_parse("10.9.9.9", &e.addr), 0);
		op.kind = NPD_SETOP_UPDATE;
		snprintf(op.name, sizeof(op.name), "%s", set->name);
		op.add = &e;
		op.n_add = 1;
		ck_assert_int_eq(npd_set_backend_fake.update(b->s, &op, NULL), 0);
		return set->name;
	case SET_EXTRA:
		ck_assert_int_eq(
		    npd_set_backend_fake.create(
			b->s,
			npd_ruleset_add_set(scratch, "npd-stray", NPD_SET_HASH_IP, AF_INET, NULL),
			NULL),
		    0);
		return "npd-stray";
	case SET_COUNTERS_FLIPPED: {
		/* Another writer recreated a set with the same members but (without) the
		 * counters extension: its entry count alone cannot tell. */
		struct npd_set *copy;
		size_t i;

		ck_assert_uint_ge(rs->n_sets, 2);
		set = &rs->sets[1];
		copy = npd_ruleset_add_set(scratch, set->name, set->type, set->family, NULL);
		for (i = 0; i < set->n_entries; i++)
			npd_ruleset_add_entry(copy, &set->entries[i]);
		copy->counters = !set->counters;
		ck_assert_int_eq(npd_set_backend_fake.create(b->s, copy, NULL), 0);
		return set->name;
	}
	case N_CASES:
		break;
	}
	return NULL;
}

struct drifts {
	struct npd_drift v[16];
	char names[16][NPD_SET_NAMELEN];
	size_t n;
};

static void
collect(const struct npd_drift *d, void *ctx)
{
	struct drifts *ds = ctx;

	ck_assert_uint_lt(ds->n, 16);
	ds->v[ds->n] = *d;
	snprintf(ds->names[ds->n], sizeof(ds->names[0]), "%s", d->name ? d->name : "");
	ds->n++;
}

static const enum npd_drift_kind case_kind[N_CASES] = {
    [CHAIN_DELETED] = NPD_DRIFT_CHAIN_MISSING, [CHAIN_FLUSHED] = NPD_DRIFT_CHAIN_RULES,
    [CHAIN_EXTRA] = NPD_DRIFT_CHAIN_EXTRA,     [HOOKS_DELETED] = NPD_DRIFT_HOOKS,
    [SET_DESTROYED] = NPD_DRIFT_SET_MISSING,   [SET_ENTRY_ADDED] = NPD_DRIFT_SET_ENTRIES,
    [SET_EXTRA] = NPD_DRIFT_SET_EXTRA,	       [SET_COUNTERS_FLIPPED] = NPD_DRIFT_SET_COUNTERS,
};

START_TEST(each_drift_found_and_repaired)
{
	enum drift_case c = (enum drift_case)_i;
	struct npd_ruleset *want = desired(true), *scratch = npd_ruleset_new();
	struct fake *b = fake_open();
	struct npd_applied *ap = npd_applied_new();
	struct drifts ds = {.n = 0};
	struct npd_owned o;
	struct npd_plan *p;
	char name[NPD_SET_NAMELEN];
	const char *n;

	ck_assert_int_eq(sync_to(ap, b, want, NULL), 0);
	list(b, &o);
	ck_assert_uint_eq(npd_applied_mark_drift(ap, &o, collect, &ds), 0);
	npd_owned_fini(&o);

	want = desired(true);
	n = make_drift(b, want, c, scratch);
	snprintf(name, sizeof(name), "%s", n ? n : "");
	list(b, &o);
	ck_assert_uint_eq(npd_applied_mark_drift(ap, &o, collect, &ds), 1);
	npd_owned_fini(&o);
	ck_assert_int_eq(ds.v[0].kind, case_kind[c]);
	ck_assert_str_eq(ds.names[0], name);

	switch (c) {
	case CHAIN_DELETED:
		ck_assert_int_eq(npd_applied_chain_state(ap, AF_INET, name), NPD_APPLIED_ABSENT);
		break;
	case CHAIN_FLUSHED:
		ck_assert_uint_eq(ds.v[0].have, 0);
		ck_assert_uint_gt(ds.v[0].want, 0);
		ck_assert_int_eq(npd_applied_chain_state(ap, AF_INET, name), NPD_APPLIED_UNKNOWN);
		break;
	case CHAIN_EXTRA:
		ck_assert_int_eq(npd_applied_chain_state(ap, AF_INET6, name), NPD_APPLIED_UNKNOWN);
		break;
	case HOOKS_DELETED:
		ck_assert_int_eq(ds.v[0].family, AF_INET6);
		ck_assert(!npd_applied_hooks_known(ap, AF_INET6));
		ck_assert(npd_applied_hooks_known(ap, AF_INET));
		break;
	case SET_DESTROYED:
		ck_assert_int_eq(npd_applied_set_state(ap, name), NPD_APPLIED_ABSENT);
		break;
	case SET_ENTRY_ADDED:
	case SET_EXTRA:
		ck_assert_int_eq(npd_applied_set_state(ap, name), NPD_APPLIED_UNKNOWN);
		break;
	case SET_COUNTERS_FLIPPED:
		ck_assert_uint_eq(ds.v[0].want, 0);
		ck_assert_uint_eq(ds.v[0].have, 1);
		ck_assert_int_eq(npd_applied_set_state(ap, name), NPD_APPLIED_UNKNOWN);
		break;
	case N_CASES:
		break;
	}

	ck_assert_int_eq(sync_to(ap, b, want, &p), 0);
	switch (c) {
	case CHAIN_DELETED:
	case CHAIN_FLUSHED:
		ck_assert(p->v4.commit && !p->v6.commit);
		ck_assert_uint_eq(p->v4.n_write, 1);
		ck_assert_str_eq(p->v4.write[0]->name, name);
		break;
	case CHAIN_EXTRA:
		ck_assert(!p->v4.commit && p->v6.commit);
		ck_assert_uint_eq(p->v6.n_del, 1);
		ck_assert_str_eq(p->v6.del[0], name);
		break;
	case HOOKS_DELETED:
		ck_assert(!p->v4.commit && p->v6.commit);
		ck_assert_uint_eq(p->v6.n_write + p->v6.n_del, 0);
		break;
	case SET_DESTROYED:
	case SET_ENTRY_ADDED:
	case SET_EXTRA:
	case SET_COUNTERS_FLIPPED:
		ck_assert(!p->v4.commit && !p->v6.commit);
		ck_assert_uint_eq(p->n_set_ops, 1);
		ck_assert_int_eq(p->set_ops[0].kind,
				 c == SET_EXTRA ? NPD_SETOP_DESTROY : NPD_SETOP_CREATE);
		ck_assert_str_eq(p->set_ops[0].name, name);
		break;
	case N_CASES:
		break;
	}
	npd_plan_free(p);
	assert_kernel_is(b, want);
	npd_ruleset_free(scratch);
	npd_applied_free(ap);
	fake_close(b);
}
END_TEST

START_TEST(displaced_hook_is_unknown)
{
	struct npd_ruleset *want = desired(true);
	struct fake *b = fake_open();
	struct npd_applied *ap = npd_applied_new();
	struct drifts ds = {.n = 0};
	struct npd_owned o;
	struct npd_plan *p;

	ck_assert_int_eq(sync_to(ap, b, want, NULL), 0);
	list(b, &o);
	npd_owned_family(&o, AF_INET)->hook_displaced = true;
	ck_assert_uint_eq(npd_applied_mark_drift(ap, &o, collect, &ds), 1);
	ck_assert_int_eq(ds.v[0].kind, NPD_DRIFT_HOOKS);
	ck_assert_int_eq(ds.v[0].family, AF_INET);
	want = desired(true);
	p = npd_applied_plan(ap, want);
	ck_assert(p->v4.commit && !p->v6.commit);
	ck_assert_uint_eq(p->v4.n_write + p->v4.n_del + p->n_set_ops, 0);
	npd_plan_free(p);

	/* Found displaced at start: unknown from the beginning. */
	npd_applied_discover(ap, &o);
	npd_owned_fini(&o);
	ck_assert(!npd_applied_hooks_known(ap, AF_INET));
	ck_assert(npd_applied_hooks_known(ap, AF_INET6));
	npd_ruleset_free(want);
	npd_applied_free(ap);
	fake_close(b);
}
END_TEST

START_TEST(failed_apply_leaves_state_unknown)
{
	struct npd_ruleset *want = desired(true), *next = desired(true);
	struct fake *b = fake_open();
	struct npd_applied *ap = npd_applied_new();
	struct npd_set_entry e;
	struct npd_owned o;
	struct npd_plan *p;
	char name[NPD_SET_NAMELEN];

	ck_assert_int_eq(sync_to(ap, b, want, NULL), 0);
	/* Another writer destroys a set before a resync noticed: updating it fails. */
	snprintf(name, sizeof(name), "%s", next->sets[0].name);
	ck_assert_int_eq(npd_set_backend_fake.destroy(b->s, name, NULL), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(npd_addr_parse("10.9.9.9", &e.addr), 0);
	npd_ruleset_add_entry(&next->sets[0], &e);
	npd_ruleset_seal(next);
	ck_assert_int_lt(sync_to(ap, b, next, NULL), 0);
	ck_assert(!npd_applied_is_known(ap));
	ck_assert_int_eq(npd_applied_chain_state(ap, AF_INET, "NPD-FORWARD"), NPD_APPLIED_UNKNOWN);
	ck_assert_int_eq(npd_applied_set_state(ap, name), NPD_APPLIED_UNKNOWN);
	ck_assert(!npd_applied_hooks_known(ap, AF_INET));
	ck_assert_uint_eq(npd_applied_known(ap)->n_sets + npd_applied_known(ap)->v4.n_chains, 0);
	/* Nothing to judge drift against until the kernel is listed again. */
	list(b, &o);
	ck_assert_uint_eq(npd_applied_mark_drift(ap, &o, NULL, NULL), 0);

	/* The retry rediscovers: the destroyed set is absent and created, the rest rewritten. */
	npd_applied_discover(ap, &o);
	npd_owned_fini(&o);
	ck_assert_int_eq(npd_applied_set_state(ap, name), NPD_APPLIED_ABSENT);
	ck_assert_int_eq(sync_to(ap, b, next, &p), 0);
	ck_assert_uint_eq(n_ops(p, NPD_SETOP_CREATE), next->n_sets);
	npd_plan_free(p);
	assert_kernel_is(b, next);
	want = desired(true);
	npd_ruleset_add_entry(&want->sets[0], &e);
	npd_ruleset_seal(want);
	p = npd_applied_plan(ap, want);
	ck_assert(npd_plan_is_empty(p));
	npd_plan_free(p);
	npd_ruleset_free(want);
	npd_applied_free(ap);
	fake_close(b);
}
END_TEST

/* Several drifts at once, chosen by a seeded generator (NPD_SEED replays one run). */
START_TEST(random_drift_repaired)
{
	const char *env = getenv("NPD_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	unsigned round;

	fprintf(stderr, "check_applied: random_drift_repaired seed=%u (NPD_SEED=%u replays)\n",
		seed, seed);
	srand(seed);
	for (round = 0; round < 50; round++) {
		struct npd_ruleset *want = desired(true), *scratch = npd_ruleset_new();
		struct fake *b = fake_open();
		struct npd_applied *ap = npd_applied_new();
		struct npd_owned o;
		unsigned mask = (unsigned)rand() & ((1u << N_CASES) - 1);
		size_t c, expect = 0, n;

		ck_assert_int_eq(sync_to(ap, b, want, NULL), 0);
		want = desired(true);
		/* A destroyed set cannot also gain an entry. */
		if (mask & (1u << SET_DESTROYED))
			mask &= ~(1u << SET_ENTRY_ADDED);
		/* A deleted chain cannot also be flushed. */
		if (mask & (1u << CHAIN_DELETED))
			mask &= ~(1u << CHAIN_FLUSHED);
		for (c = 0; c < N_CASES; c++)
			if (mask & (1u << c)) {
				make_drift(b, want, (enum drift_case)c, scratch);
				expect++;
			}
		list(b, &o);
		n = npd_applied_mark_drift(ap, &o, NULL, NULL);
		npd_owned_fini(&o);
		ck_assert_msg(n == expect, "seed %u round %u mask %#x: %zu drifts, want %zu", seed,
			      round, mask, n, expect);
		ck_assert_int_eq(sync_to(ap, b, want, NULL), 0);
		assert_kernel_is(b, want);
		list(b, &o);
		ck_assert_uint_eq(npd_applied_mark_drift(ap, &o, NULL, NULL), 0);
		npd_owned_fini(&o);
		npd_ruleset_free(scratch);
		npd_applied_free(ap);
		fake_close(b);
	}
}
END_TEST

/* The cases a plain list cannot hold. */
static void
extra(TCase *tc)
{
	tcase_add_loop_test(tc, each_drift_found_and_repaired, 0, N_CASES);
}

TU_MAIN_WITH("applied", extra, discovery_makes_everything_unknown,
	     restart_removes_stale_chains_and_sets, displaced_hook_is_unknown,
	     failed_apply_leaves_state_unknown, random_drift_repaired)
