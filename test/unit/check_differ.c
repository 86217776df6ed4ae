/* check_differ.c: plans between rulesets: the first sync writes everything, an unchanged
 * store plans nothing, pod churn that leaves the selectors alone touches ipsets only,
 * policy changes rewrite or delete exactly their chains, and the order of operations
 * (create/update sets, commit, destroy sets) holds. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/differ.h"
#include "npd/mem.h"
#include "testutil.h"

static struct npd_policy *
mkpol(const char *ns, const char *name, const char *podsel, const char *peersel)
{
	struct npd_policy *p = npd_policy_new();
	struct npd_peer *peer;

	p->ns = npd_xstrdup(ns);
	p->name = npd_xstrdup(name);
	tu_labels(&p->pod_sel.match_labels, podsel);
	p->isolates_ingress = true;
	p->ingress = npd_xcalloc(1, sizeof(*p->ingress));
	p->n_ingress = 1;
	peer = p->ingress[0].peers = npd_xcalloc(1, sizeof(*peer));
	p->ingress[0].n_peers = 1;
	peer->kind = NPD_PEER_SELECTOR;
	peer->has_ns_sel = true; /* every namespace */
	peer->has_pod_sel = true;
	tu_labels(&peer->pod_sel.match_labels, peersel);
	return p;
}

static struct npd_store *
cluster(void)
{
	struct npd_store *s = npd_store_new();

	npd_store_add_namespace(s, tu_ns("shop", NULL));
	npd_store_add_namespace(s, tu_ns("ops", NULL));
	npd_store_add_pod(s, tu_pod("shop", "web-0", "app=web", "10.0.0.1,fd00::1", "node1"));
	npd_store_add_pod(s, tu_pod("shop", "cli-0", "app=cli", "10.0.1.1,fd00::11", "node2"));
	npd_store_add_pod(s, tu_pod("ops", "mon-0", "app=mon", "10.0.2.1", "node3"));
	npd_store_add_policy(s, mkpol("shop", "web-from-cli", "app=web", "app=cli"));
	npd_store_add_policy(s, mkpol("shop", "web-from-mon", "app=web", "app=mon"));
	return s;
}

static char *
plan_text(const struct npd_plan *p)
{
	struct npd_buf b;

	npd_buf_init(&b);
	npd_plan_format(p, &b);
	return npd_buf_steal(&b);
}

/* How many chains of t the plan's commit for family restarts the counters of. */
static size_t
n_reset(const struct npd_plan *p, uint8_t family, const struct npd_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_chains; i++)
		n += npd_plan_resets_chain(p, family, t->chains[i].name);
	return n;
}

/* Frees what a test made: the store and up to three rulesets, any of them NULL. */
static void
done(struct npd_store *s, struct npd_ruleset *a, struct npd_ruleset *b, struct npd_ruleset *c)
{
	npd_ruleset_free(a);
	npd_ruleset_free(b);
	npd_ruleset_free(c);
	npd_store_free(s);
}

START_TEST(first_sync_writes_everything)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *rs = tu_compile(s);
	struct npd_plan *p = npd_differ_plan(NULL, rs);
	char *t;
	size_t i;

	ck_assert_uint_eq(p->n_set_ops, rs->n_sets);
	for (i = 0; i < p->n_set_ops; i++) {
		ck_assert_int_eq(p->set_ops[i].kind, NPD_SETOP_CREATE);
		ck_assert_ptr_eq(p->set_ops[i].set, &rs->sets[i]);
	}
	ck_assert(p->v4.commit && p->v6.commit);
	ck_assert_uint_eq(p->v4.n_write, rs->v4.n_chains);
	ck_assert_uint_eq(p->v6.n_write, rs->v6.n_chains);
	ck_assert_ptr_eq(p->v4.desired, &rs->v4);
	t = plan_text(p);
	/* Per family: two peer sets, a local pod group's set, the isolated pods' set; the
	 * chains NPD-FORWARD, the ingress dispatch (two), the group's, two policies', the
	 * ingress deny and pickup tails. */
	ck_assert_str_eq(t, "sets +8 ~0 -0 entries +0 -0 v4 commit write=8 del=0 v6 commit "
			    "write=8 del=0");
	free(t);
	npd_plan_free(p);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(same_state_plans_nothing)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *a = tu_compile(s), *b = tu_compile(s);
	struct npd_plan *p = npd_differ_plan(a, b);

	ck_assert(npd_plan_is_empty(p));
	npd_plan_free(p);
	done(s, a, b, NULL);
}
END_TEST

/* Pod churn that does not change which selectors exist is ipset membership
 * only, never an iptables commit. */
START_TEST(remote_pod_churn_is_set_updates_only)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *a = tu_compile(s), *b, *c;
	struct npd_plan *p;
	char buf[NPD_ADDRSTRLEN];
	size_t i, adds = 0, dels = 0;

	/* A new remote client, a relabelled monitor, a finished client. */
	npd_store_add_pod(s, tu_pod("ops", "cli-1", "app=cli", "10.0.3.1,fd00::31", "node4"));
	npd_store_add_pod(s, tu_pod("ops", "mon-0", "app=cli", "10.0.2.1", "node3"));
	b = tu_compile(s);
	p = npd_differ_plan(a, b);
	ck_assert(!p->v4.commit && !p->v6.commit);
	ck_assert_uint_eq(p->v4.n_write + p->v4.n_del + p->v6.n_write + p->v6.n_del, 0);
	ck_assert_uint_eq(n_reset(p, AF_INET, &b->v4) + n_reset(p, AF_INET6, &b->v6), 0);
	ck_assert(p->n_set_ops > 0);
	for (i = 0; i < p->n_set_ops; i++) {
		const struct npd_set_op *op = &p->set_ops[i];

		ck_assert_int_eq(op->kind, NPD_SETOP_UPDATE);
		ck_assert_ptr_eq(op->set, npd_ruleset_find_set(b, op->name));
		adds += op->n_add;
		dels += op->n_del;
		if (op->n_del) {
			ck_assert_uint_eq(op->n_del, 1);
			ck_assert_str_eq(npd_addr_format(&op->del[0].addr, buf), "10.0.2.1");
		}
	}
	ck_assert_uint_eq(adds, 3); /* cli-1 v4 and v6, mon-0 into the cli set */
	ck_assert_uint_eq(dels, 1); /* mon-0 out of the mon set */
	npd_plan_free(p);

	{
		struct npd_pod *done =
		    tu_pod("ops", "cli-1", "app=cli", "10.0.3.1,fd00::31", "node4");

		done->phase = NPD_PHASE_SUCCEEDED;
		npd_store_add_pod(s, done);
	}
	c = tu_compile(s);
	p = npd_differ_plan(b, c);
	ck_assert(!p->v4.commit && !p->v6.commit);
	ck_assert_uint_eq(p->n_set_ops, 2); /* the cli set of each family */
	ck_assert_uint_eq(p->set_ops[0].n_del + p->set_ops[1].n_del, 2);
	npd_plan_free(p);
	done(s, a, b, c);
}
END_TEST

/* The set updates of a plan, as "+ADDR" / "-ADDR" words in plan order, for the sets of local
 * pods: the groups' (counted false) or the isolated pods' (counted true). */
static char *
local_updates(const struct npd_plan *p, bool counted)
{
	struct npd_buf b;
	char buf[NPD_ADDRSTRLEN];
	size_t i, j;

	npd_buf_init(&b);
	npd_buf_adds(&b, "");
	for (i = 0; i < p->n_set_ops; i++) {
		const struct npd_set_op *op = &p->set_ops[i];

		if (op->kind != NPD_SETOP_UPDATE || op->set->counters != counted ||
		    strncmp(op->set->comment, "local ", 6))
			continue;
		for (j = 0; j < op->n_add; j++)
			npd_buf_printf(&b, " +%s", npd_addr_format(&op->add[j].addr, buf));
		for (j = 0; j < op->n_del; j++)
			npd_buf_printf(&b, " -%s", npd_addr_format(&op->del[j].addr, buf));
	}
	return npd_buf_steal(&b);
}

/* A local pod joining, moving between or leaving groups that exist is set membership
 * only: no table commit. Joining one isolates an address, so the plan can deny. */
START_TEST(local_pod_churn_is_set_updates_only)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *rs[4];
	struct npd_plan *p;
	char *t;
	int i;

	npd_store_add_policy(s, mkpol("shop", "db-from-web", "app=db", "app=web"));
	npd_store_add_pod(s, tu_pod("shop", "db-0", "app=db", "10.0.0.9,fd00::9", "node1"));
	rs[0] = tu_compile(s);
	/* A second web pod on the node joins web-0's group. */
	npd_store_add_pod(s, tu_pod("shop", "web-1", "app=web", "10.0.0.2,fd00::2", "node1"));
	rs[1] = tu_compile(s);
	/* It becomes a db pod: it moves to db-0's group. */
	npd_store_add_pod(s, tu_pod("shop", "web-1", "app=db", "10.0.0.2,fd00::2", "node1"));
	rs[2] = tu_compile(s);
	/* It goes. */
	npd_store_del(s, NPD_KIND_POD, "shop", "web-1");
	rs[3] = tu_compile(s);
	for (i = 0; i < 3; i++) {
		p = npd_differ_plan(rs[i], rs[i + 1]);
		ck_assert_msg(!p->v4.commit && !p->v6.commit, "step %d commits", i);
		ck_assert(p->n_set_ops > 0);
		t = local_updates(p, false);
		/* In set name order: web-1 leaves web-0's group and joins db-0's. */
		ck_assert_str_eq(t, i == 0   ? " +10.0.0.2 +fd00::2"
				    : i == 1 ? " -10.0.0.2 -fd00::2 +10.0.0.2 +fd00::2"
					     : " -10.0.0.2 -fd00::2");
		free(t);
		/* It stays isolated for ingress while it moves. */
		t = local_updates(p, true);
		ck_assert_str_eq(t, i == 0   ? " +10.0.0.2 +fd00::2"
				    : i == 1 ? ""
					     : " -10.0.0.2 -fd00::2");
		free(t);
		/* Step 0 only adds entries, but one isolates web-1; the others delete. */
		ck_assert(npd_plan_can_deny(p));
		npd_plan_free(p);
	}
	for (i = 0; i < 4; i++)
		npd_ruleset_free(rs[i]);
	npd_store_free(s);
}
END_TEST

START_TEST(policy_changes_touch_their_chains)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *a = tu_compile(s), *b, *c;
	struct npd_plan *p;
	size_t i, n_group, n_old;

	/* Edit: same chain name, new content; the new peer set is created first. */
	npd_store_add_policy(s, mkpol("shop", "web-from-mon", "app=web", "app=db"));
	b = tu_compile(s);
	p = npd_differ_plan(a, b);
	ck_assert(p->v4.commit && p->v6.commit);
	ck_assert_uint_eq(p->v4.n_write, 1);
	ck_assert_str_eq(p->v4.write[0]->name,
			 npd_ruleset_find_chain(&b->v4, p->v4.write[0]->name)->name);
	ck_assert(!strncmp(p->v4.write[0]->name, "NPD-PI-", 7));
	ck_assert_uint_eq(p->v4.n_del, 0);
	/* Only the rewritten chain restarts its counters, in each family. */
	ck_assert(npd_plan_resets_chain(p, AF_INET, p->v4.write[0]->name));
	ck_assert_uint_eq(n_reset(p, AF_INET, &a->v4), 1);
	ck_assert_uint_eq(n_reset(p, AF_INET6, &a->v6), 1);
	ck_assert_uint_eq(p->n_set_ops, 4);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_CREATE);
	ck_assert_int_eq(p->set_ops[1].kind, NPD_SETOP_CREATE);
	ck_assert_int_eq(p->set_ops[2].kind, NPD_SETOP_DESTROY);
	ck_assert_int_eq(p->set_ops[3].kind, NPD_SETOP_DESTROY);
	npd_plan_free(p);

	/* Delete: its chain goes; the pod's group (its list of policies) is another one now,
	 * whose chain and set are made first; the old group's chain goes with the policy's
	 * (and the old group's dispatch chain when the new group is in another one), and the
	 * sets of both are destroyed last. In name order: NPD-FWD-, NPD-I-, NPD-PI-. */
	npd_store_del(s, NPD_KIND_POLICY, "shop", "web-from-mon");
	c = tu_compile(s);
	p = npd_differ_plan(b, c);
	ck_assert_uint_ge(p->v4.n_del, 2);
	ck_assert_uint_le(p->v4.n_del, 3);
	ck_assert(p->v4.n_del == 2 || !strncmp(p->v4.del[0], "NPD-FWD-I-", 10));
	ck_assert(!strncmp(p->v4.del[p->v4.n_del - 2], "NPD-I-", 6));
	ck_assert(!strncmp(p->v4.del[p->v4.n_del - 1], "NPD-PI-", 7));
	/* The new group's chain, and the ingress dispatch chains that name either group (one
	 * or two of the sixteen, and NPD-FWD-I when one of them appears or goes); never
	 * NPD-FORWARD, whose rules name no group. */
	ck_assert_uint_ge(p->v4.n_write, 2);
	ck_assert_uint_le(p->v4.n_write, 4);
	for (i = n_group = 0; i < p->v4.n_write; i++) {
		const char *w = p->v4.write[i]->name;

		ck_assert_msg(!strncmp(w, "NPD-FWD-I", 9) || !strncmp(w, "NPD-I-", 6), "%s", w);
		if (!strncmp(w, "NPD-I-", 6)) {
			ck_assert_str_ne(w, p->v4.del[p->v4.n_del - 2]);
			n_group++;
		}
		/* Written chains start their counters anew, as do deleted ones. */
		ck_assert(npd_plan_resets_chain(p, AF_INET, w));
	}
	ck_assert_uint_eq(n_group, 1);
	for (i = 0; i < p->v4.n_del; i++)
		ck_assert(npd_plan_resets_chain(p, AF_INET, p->v4.del[i]));
	ck_assert_uint_eq(n_reset(p, AF_INET, &c->v4), p->v4.n_write);
	for (i = n_old = 0; i < p->v4.n_write; i++)
		n_old += npd_ruleset_find_chain(&b->v4, p->v4.write[i]->name) != NULL;
	ck_assert_uint_le(n_old, p->v4.n_write - 1); /* the new group's is new */
	ck_assert_uint_eq(n_reset(p, AF_INET, &b->v4), p->v4.n_del + n_old);
	ck_assert_uint_eq(p->n_set_ops, 6);
	for (i = 0; i < p->n_set_ops; i++)
		ck_assert_int_eq(p->set_ops[i].kind, i < 2 ? NPD_SETOP_CREATE : NPD_SETOP_DESTROY);
	npd_plan_free(p);
	done(s, a, b, c);
}
END_TEST

START_TEST(changed_hooks_force_commit)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *a = tu_compile(s), *b = tu_compile(s);
	struct npd_plan *p;

	a->v6.n_hooks = 0; /* the kernel lacks the IPv6 hook */
	p = npd_differ_plan(a, b);
	ck_assert(!p->v4.commit && p->v6.commit);
	ck_assert_uint_eq(p->v6.n_write, 0);
	npd_plan_free(p);
	done(s, a, b, NULL);
}
END_TEST

/* A ruleset of one set "npd-x" of type holding the /16 entries of spec, e.g. "!10.1.0.0
 * 10.2.0.0" ('!': nomatch, an except). */
static struct npd_ruleset *
net_set(enum npd_set_type type, const char *spec)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set *set = npd_ruleset_add_set(rs, "npd-x", type, AF_INET, NULL);
	char *copy = npd_xstrdup(spec), *save = NULL, *tok;
	struct npd_set_entry e;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		memset(&e, 0, sizeof(e));
		e.nomatch = *tok == '!';
		ck_assert(npd_addr_parse(tok + e.nomatch, &e.addr) == 0);
		e.prefix = 16;
		npd_ruleset_add_entry(set, &e);
	}
	free(copy);
	npd_ruleset_seal(rs);
	return rs;
}

START_TEST(unchangeable_sets_are_recreated)
{
	struct npd_ruleset *a = net_set(NPD_SET_HASH_NET, "10.1.0.0 10.2.0.0");
	struct npd_ruleset *b = net_set(NPD_SET_HASH_NET, "!10.1.0.0 10.2.0.0");
	struct npd_ruleset *c = net_set(NPD_SET_HASH_IP, "!10.1.0.0 10.2.0.0");
	struct npd_plan *p;

	/* Flipping nomatch cannot be done by add-then-delete: the key is the same. */
	p = npd_differ_plan(a, b);
	ck_assert_uint_eq(p->n_set_ops, 1);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_CREATE);
	ck_assert_ptr_eq(p->set_ops[0].set, &b->sets[0]);
	ck_assert_uint_eq(p->set_ops[0].n_add + p->set_ops[0].n_del, 0);
	npd_plan_free(p);
	p = npd_differ_plan(b, c);
	ck_assert_uint_eq(p->n_set_ops, 1);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_CREATE);
	npd_plan_free(p);
	done(NULL, a, b, c);
}
END_TEST

/* The counters extension is fixed when a set is created: a set that gains or loses it is
 * recreated (by swap), whatever the entries; the direction it counts for is the compiler's
 * business and changes nothing in the kernel. */
START_TEST(counted_sets_are_recreated)
{
	struct npd_ruleset *a = net_set(NPD_SET_HASH_IP, "10.1.0.0 10.2.0.0");
	struct npd_ruleset *b = net_set(NPD_SET_HASH_IP, "10.1.0.0 10.2.0.0");
	struct npd_ruleset *c = net_set(NPD_SET_HASH_IP, "10.1.0.0 10.3.0.0");
	const char dirty[][NPD_SET_NAMELEN] = {"npd-other"};
	struct npd_plan *p;

	b->sets[0].counters = true;
	c->sets[0].counters = true;
	c->sets[0].count_dir = NPD_ORIGIN_EGRESS;
	p = npd_differ_plan(a, b);
	ck_assert_uint_eq(p->n_set_ops, 1);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_CREATE);
	ck_assert_ptr_eq(p->set_ops[0].set, &b->sets[0]);
	npd_plan_free(p);
	p = npd_differ_plan(b, a);
	ck_assert_uint_eq(p->n_set_ops, 1);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_CREATE);
	ck_assert_ptr_eq(p->set_ops[0].set, &a->sets[0]);
	npd_plan_free(p);
	/* Even when the caller says only other sets' entries changed. */
	p = npd_differ_plan_dirty(a, b, dirty, 1, false);
	ck_assert_uint_eq(p->n_set_ops, 1);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_CREATE);
	npd_plan_free(p);
	p = npd_differ_plan(b, c);
	ck_assert_uint_eq(p->n_set_ops, 1);
	ck_assert_int_eq(p->set_ops[0].kind, NPD_SETOP_UPDATE);
	ck_assert_uint_eq(p->set_ops[0].n_add, 1);
	ck_assert_uint_eq(p->set_ops[0].n_del, 1);
	npd_plan_free(p);
	npd_ruleset_free(a);
	a = net_set(NPD_SET_HASH_IP, "10.1.0.0 10.3.0.0");
	a->sets[0].counters = true;
	p = npd_differ_plan(a, c);
	ck_assert_uint_eq(p->n_set_ops, 0);
	npd_plan_free(p);
	done(NULL, a, b, c);
}
END_TEST

/* Only a plan that adds matching set entries and commits nothing admits more without
 * denying anything: the agent runs no conntrack cut for it. */
START_TEST(only_additions_cannot_deny)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *a = tu_compile(s), *b, *c, *d;
	struct npd_ruleset *n0 = net_set(NPD_SET_HASH_NET, "10.2.0.0");
	struct npd_ruleset *n1 = net_set(NPD_SET_HASH_NET, "10.2.0.0 10.3.0.0");
	struct npd_ruleset *n2 = net_set(NPD_SET_HASH_NET, "10.2.0.0 !10.3.0.0");
	struct npd_plan *p;

	p = npd_differ_plan(a, a);
	ck_assert(!npd_plan_can_deny(p));
	npd_plan_free(p);
	/* A new remote client joins the cli set of each family. */
	npd_store_add_pod(s, tu_pod("ops", "cli-1", "app=cli", "10.0.3.1,fd00::31", "node4"));
	b = tu_compile(s);
	p = npd_differ_plan(a, b);
	ck_assert(!p->v4.commit && !p->v6.commit && p->n_set_ops == 2);
	ck_assert(!npd_plan_can_deny(p));
	npd_plan_free(p);
	/* It leaves: an entry is deleted. */
	npd_store_del(s, NPD_KIND_POD, "ops", "cli-1");
	c = tu_compile(s);
	p = npd_differ_plan(b, c);
	ck_assert(!p->v4.commit && p->n_set_ops == 2 && p->set_ops[0].n_del == 1);
	ck_assert(npd_plan_can_deny(p));
	npd_plan_free(p);
	/* A policy edit commits the tables. */
	npd_store_add_policy(s, mkpol("shop", "web-from-mon", "app=web", "app=cli"));
	d = tu_compile(s);
	p = npd_differ_plan(c, d);
	ck_assert(p->v4.commit);
	ck_assert(npd_plan_can_deny(p));
	npd_plan_free(p);
	/* A block widened admits more; an except added denies. */
	p = npd_differ_plan(n0, n1);
	ck_assert(p->n_set_ops == 1 && p->set_ops[0].kind == NPD_SETOP_UPDATE);
	ck_assert(!npd_plan_can_deny(p));
	npd_plan_free(p);
	p = npd_differ_plan(n0, n2);
	ck_assert(p->n_set_ops == 1 && p->set_ops[0].kind == NPD_SETOP_UPDATE);
	ck_assert(npd_plan_can_deny(p));
	npd_plan_free(p);
	/* A set created (or recreated over one of unknown content) counts as a change. */
	p = npd_differ_plan(NULL, n1);
	ck_assert(npd_plan_can_deny(p));
	npd_plan_free(p);
	done(NULL, n0, n1, n2);
	done(s, a, b, c);
	npd_ruleset_free(d);
}
END_TEST

TU_MAIN("differ", first_sync_writes_everything, same_state_plans_nothing,
	remote_pod_churn_is_set_updates_only, local_pod_churn_is_set_updates_only,
	policy_changes_touch_their_chains, changed_hooks_force_commit,
	unchangeable_sets_are_recreated, counted_sets_are_recreated, only_additions_cannot_deny)
