/* check_hooklayout.c: the hook layout and the ownership rules both xtables backends share
 * (lib/backend/xt_common.c), on tables built by hand; no root, no kernel. Proves that a
 * chain already right is left alone, that displaced, duplicate, stale and decorated hooks
 * are replaced while other writers' rules stay, that list_owned reports hooks and
 * displacement per family, and, on seeded random chains, that performing any layout yields
 * our desired jumps on top, no other jump of ours and every foreign rule in its order. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/xt_common.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "testutil.h"

/* Chain `name` of t filled from "T1 T2* ..." (targets; a trailing * marks a rule that is not
 * the jump alone). The words stay in `words`, owned by the caller. */
static struct npd_xt_chain *
chain(struct npd_xt_table *t, const char *name, bool builtin, char *words)
{
	struct npd_xt_chain *c = npd_xt_table_add_chain(t, name, builtin);
	char *tok, *save = NULL;

	for (tok = strtok_r(words, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(tok);
		bool plain = tok[n - 1] != '*';

		if (!plain)
			tok[n - 1] = '\0';
		npd_xt_chain_add_rule(c, tok, plain, tok);
	}
	return c;
}

static void
want(struct npd_table *d, const char *builtin, const char *target)
{
	struct npd_hook *h = &d->hooks[d->n_hooks++];

	snprintf(h->builtin, sizeof(h->builtin), "%s", builtin);
	snprintf(h->chain, sizeof(h->chain), "%s", target);
}

/* The layouts as text, one line a chain: "FORWARD del=1,2 ins=NPD-A,NPD-B". */
static char *
layout_text(const struct npd_xt_table *t, const struct npd_table *desired)
{
	struct npd_hook_layout *p = NULL;
	struct npd_buf b;
	size_t n, i, j;

	npd_buf_init(&b);
	n = npd_xt_layout_hooks(t, desired, &p);
	for (i = 0; i < n; i++) {
		npd_buf_printf(&b, "%s del=", p[i].builtin);
		for (j = 0; j < p[i].n_del; j++)
			npd_buf_printf(&b, "%s%zu", j ? "," : "", p[i].del[j]);
		npd_buf_adds(&b, " ins=");
		for (j = 0; j < p[i].n_ins; j++)
			npd_buf_printf(&b, "%s%s", j ? "," : "", p[i].ins[j]);
		npd_buf_addc(&b, '\n');
	}
	npd_hook_layouts_free(p, n);
	npd_buf_addc(&b, '\0');
	return b.data;
}

/* One case: FORWARD holds `rules`, INPUT holds `input`, desired is FORWARD -> want_fwd
 * (NULL: no hooks at all); the layouts must read `expect`. */
static void
check_layout(const char *rules, const char *input, const char *want_fwd, const char *expect)
{
	char *w1 = npd_xstrdup(rules), *w2 = npd_xstrdup(input), *got;
	struct npd_table d;
	struct npd_xt_table t;

	memset(&d, 0, sizeof(d));
	npd_xt_table_init(&t, AF_INET);
	chain(&t, "INPUT", true, w2);
	chain(&t, "FORWARD", true, w1);
	npd_xt_table_add_chain(&t, "KUBE-SERVICES", false);
	if (want_fwd)
		want(&d, "FORWARD", want_fwd);
	got = layout_text(&t, want_fwd ? &d : NULL);
	ck_assert_msg(!strcmp(got, expect), "FORWARD [%s] INPUT [%s]: got\n%sexpected\n%s", rules,
		      input, got, expect);
	free(got);
	npd_xt_table_fini(&t);
	free(w2);
	free(w1);
}

START_TEST(lays_out_each_case)
{
	/* Already right, with other writers' rules below: nothing to write. */
	check_layout("", "", NULL, "");
	check_layout("NPD-FORWARD", "", "NPD-FORWARD", "");
	check_layout("NPD-FORWARD KUBE-FORWARD ACCEPT", "KUBE-FIREWALL", "NPD-FORWARD", "");
	/* Missing: inserted at the top. */
	check_layout("", "", "NPD-FORWARD", "FORWARD del= ins=NPD-FORWARD\n");
	check_layout("KUBE-FORWARD", "", "NPD-FORWARD", "FORWARD del= ins=NPD-FORWARD\n");
	/* Displaced by a foreign rule above (foreign rules below stay too). */
	check_layout("ACCEPT NPD-FORWARD", "", "NPD-FORWARD", "FORWARD del=1 ins=NPD-FORWARD\n");
	check_layout("ACCEPT NPD-FORWARD DROP", "", "NPD-FORWARD",
		     "FORWARD del=1 ins=NPD-FORWARD\n");
	/* Duplicates: all go, one comes back on top. */
	check_layout("NPD-FORWARD NPD-FORWARD", "", "NPD-FORWARD",
		     "FORWARD del=0,1 ins=NPD-FORWARD\n");
	check_layout("NPD-FORWARD KUBE-FORWARD NPD-FORWARD", "", "NPD-FORWARD",
		     "FORWARD del=0,2 ins=NPD-FORWARD\n");
	/* Stale hook of ours: replaced; in a chain without a desired hook: removed. */
	check_layout("NPD-OLD", "", "NPD-FORWARD", "FORWARD del=0 ins=NPD-FORWARD\n");
	check_layout("NPD-FORWARD", "ACCEPT NPD-STALE", "NPD-FORWARD", "INPUT del=1 ins=\n");
	/* A jump of ours with a match on it is not our hook: it could skip traffic. */
	check_layout("NPD-FORWARD*", "", "NPD-FORWARD", "FORWARD del=0 ins=NPD-FORWARD\n");
	/* Cleanup (no desired table): every jump of ours, nothing else. */
	check_layout("ACCEPT NPD-FORWARD KUBE-FORWARD", "NPD-X", NULL,
		     "INPUT del=0 ins=\nFORWARD del=1 ins=\n");
	/* Jumps to chains that are not ours are never touched, whatever their name is like. */
	check_layout("npd-lower NPDX KUBE-NPD-", "", NULL, "");
}
END_TEST

START_TEST(several_hooks_in_one_chain_keep_their_order)
{
	char w1[] = "NPD-A NPD-B ACCEPT", w2[] = "NPD-B NPD-A", w3[] = "NPD-A";
	struct npd_xt_table t;
	struct npd_table d;
	char *got;

	memset(&d, 0, sizeof(d));
	want(&d, "FORWARD", "NPD-A");
	want(&d, "FORWARD", "NPD-B");
	want(&d, "OUTPUT", "NPD-O");
	npd_xt_table_init(&t, AF_INET6);
	chain(&t, "FORWARD", true, w1);
	chain(&t, "INPUT", true, w2);
	chain(&t, "OUTPUT", true, w3);
	got = layout_text(&t, &d);
	ck_assert_str_eq(got, "INPUT del=0,1 ins=\nOUTPUT del=0 ins=NPD-O\n");
	free(got);
	npd_xt_table_fini(&t);

	npd_xt_table_init(&t, AF_INET6);
	chain(&t, "FORWARD", true, (char[]){"NPD-B NPD-A"});
	got = layout_text(&t, &d);
	ck_assert_str_eq(got, "FORWARD del=0,1 ins=NPD-A,NPD-B\n");
	free(got);
	npd_xt_table_fini(&t);
}
END_TEST

START_TEST(lists_owned_per_family)
{
	char f4[] = "ACCEPT NPD-FORWARD", f6[] = "NPD-FORWARD DROP", i6[] = "NPD-IN";
	struct npd_xt_table t4, t6;
	struct npd_owned o;
	size_t cap = 0;

	memset(&o, 0, sizeof(o));
	npd_xt_table_init(&t4, AF_INET);
	chain(&t4, "FORWARD", true, f4);
	npd_xt_table_add_chain(&t4, "NPD-FORWARD", false)->n_rules = 3;
	npd_xt_table_add_chain(&t4, "KUBE-SERVICES", false)->n_rules = 7;
	npd_xt_table_init(&t6, AF_INET6);
	chain(&t6, "FORWARD", true, f6);
	chain(&t6, "INPUT", true, i6);
	npd_xt_table_add_chain(&t6, "NPD-FORWARD", false);

	ck_assert(npd_xt_has_ours(&t4));
	npd_xt_list_owned(&t4, &o, &cap);
	npd_xt_list_owned(&t6, &o, &cap);
	ck_assert_uint_eq(o.n_chains, 2);
	ck_assert_str_eq(o.chains[0].name, "NPD-FORWARD");
	ck_assert_uint_eq(o.chains[0].family, AF_INET);
	ck_assert_uint_eq(o.chains[0].n_rules, 3);
	ck_assert_uint_eq(o.chains[1].family, AF_INET6);
	ck_assert_uint_eq(o.chains[1].n_rules, 0);
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET)->n_hooks, 1);
	ck_assert(npd_owned_family(&o, AF_INET)->hook_displaced);
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET6)->n_hooks, 2);
	ck_assert(!npd_owned_family(&o, AF_INET6)->hook_displaced);
	ck_assert_str_eq(npd_owned_family(&o, AF_INET6)->hooks[1].builtin, "INPUT");
	ck_assert_str_eq(npd_owned_family(&o, AF_INET6)->hooks[1].chain, "NPD-IN");
	npd_owned_fini(&o);
	npd_xt_table_fini(&t6);
	npd_xt_table_fini(&t4);

	npd_xt_table_init(&t4, AF_INET);
	chain(&t4, "FORWARD", true, (char[]){"ACCEPT KUBE-FORWARD"});
	npd_xt_table_add_chain(&t4, "KUBE-SERVICES", false);
	ck_assert(!npd_xt_has_ours(&t4));
	npd_xt_table_fini(&t4);
}
END_TEST

/* ---- random chains, layouts checked by performing them ---- */

struct rule {
	char target[16];
	bool plain;
};

/* Performs layout p on rules (what a backend does: delete from the bottom, insert on top). */
static size_t
perform(struct rule *r, size_t n, const struct npd_hook_layout *p)
{
	size_t i, j;

	for (i = p->n_del; i-- > 0;) {
		ck_assert_uint_lt(p->del[i], n);
		ck_assert(npd_xt_is_ours(r[p->del[i]].target));
		memmove(&r[p->del[i]], &r[p->del[i] + 1], (n - p->del[i] - 1) * sizeof(*r));
		n--;
	}
	for (i = p->n_ins; i-- > 0;) {
		memmove(&r[1], &r[0], n * sizeof(*r));
		snprintf(r[0].target, sizeof(r[0].target), "%s", p->ins[i]);
		r[0].plain = true;
		n++;
	}
	for (j = 1; j < p->n_del; j++)
		ck_assert_uint_lt(p->del[j - 1], p->del[j]);
	return n;
}

START_TEST(random_chains_end_right)
{
	static const char *const names[] = {"NPD-A", "NPD-B", "NPD-C", "ACCEPT", "KUBE-X", "DROP"};
	unsigned round;

	tu_seed("check_hooklayout: random_chains_end_right");
	for (round = 0; round < 5000; round++) {
		struct rule before[16], after[32];
		struct npd_xt_table t;
		struct npd_xt_chain *c;
		struct npd_table d;
		struct npd_hook_layout *p = NULL;
		size_t n = (size_t)rand() % 8, n_want = (size_t)rand() % 3, i, k, m, n_layouts;
		bool right = true;

		memset(&d, 0, sizeof(d));
		for (i = 0; i < n_want; i++)
			want(&d, "FORWARD", names[(i + (size_t)rand()) % 3]);
		for (i = 0; i < n; i++) {
			snprintf(before[i].target, sizeof(before[i].target), "%s",
				 names[(size_t)rand() % NPD_ARRAY_SIZE(names)]);
			before[i].plain = rand() % 5 != 0;
		}
		npd_xt_table_init(&t, AF_INET);
		c = npd_xt_table_add_chain(&t, "FORWARD", true);
		for (i = 0; i < n; i++)
			npd_xt_chain_add_rule(c, before[i].target, before[i].plain, NULL);
		n_layouts = npd_xt_layout_hooks(&t, &d, &p);
		ck_assert_uint_le(n_layouts, 1);
		memcpy(after, before, n * sizeof(*before));
		m = n_layouts ? perform(after, n, &p[0]) : n;

		/* Independently: our jumps on top, plain, in order; no other jump of ours;
		 * the foreign rules unchanged in order. */
		for (i = 0; i < n_want; i++) {
			ck_assert_uint_lt(i, m);
			ck_assert_str_eq(after[i].target, d.hooks[i].chain);
			ck_assert(after[i].plain);
		}
		for (i = n_want; i < m; i++)
			ck_assert(!npd_xt_is_ours(after[i].target));
		for (i = 0, k = n_want; i < n; i++) {
			if (npd_xt_is_ours(before[i].target))
				continue;
			ck_assert_uint_lt(k, m);
			ck_assert_str_eq(after[k++].target, before[i].target);
		}
		ck_assert_uint_eq(k, m);
		/* A chain that was right already gets no layout. */
		right = n >= n_want;
		for (i = 0; right && i < n; i++)
			right = i < n_want
				    ? !strcmp(before[i].target, d.hooks[i].chain) && before[i].plain
				    : !npd_xt_is_ours(before[i].target);
		ck_assert_uint_eq(n_layouts, right ? 0 : 1);
		npd_hook_layouts_free(p, n_layouts);
		npd_xt_table_fini(&t);
	}
}
END_TEST

TU_MAIN("hooklayout", lays_out_each_case, several_hooks_in_one_chain_keep_their_order,
	lists_owned_per_family, random_chains_end_right)
