/* compile_chains.c: the incremental compiler's memory of the policy chains it emitted, so
 * that a compile builds only the chains its changes can alter and shares the rules of the
 * rest (npd_chain_share: nothing is copied). Per policy it keeps the NPD-PI-/NPD-PE-
 * chains of each family, which depend on the policy alone and on the compile options: a
 * policy event forgets that policy's chains, other options forget everything. A group's
 * chain is kept with its names (compile_groups.c); the dispatch chains and NPD-FORWARD
 * are built anew by every compile (compile.c). A kept policy chain still makes its sets
 * (compile.c), so members and the set bound stay current; a policy reported over a bound
 * is not kept. Pure: no I/O, no clock, no globals. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "compile_int.h"
#include "compile_state_int.h"

/* The chains of one policy, [family][direction]. */
struct cpol {
	struct npd_cc_kept k[2][2];
	bool has[2][2];
	/* Epochs of the last compile that emitted each, and any: a chain must have been
	 * emitted by the last compile for the state to still hold its sets. */
	uint64_t used_k[2][2], used;
};

static int
fam_index(uint8_t family)
{
	return family == AF_INET6;
}

static void
refs_free(struct npd_cc_setref *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].comment);
		free(v[i].e);
	}
}

static void
kept_drop(struct cpol *cl, size_t f, size_t d)
{
	struct npd_cc_kept *k = &cl->k[f][d];

	if (!cl->has[f][d])
		return;
	npd_chain_fini(&k->ch);
	refs_free(k->refs, k->n_refs);
	free(k->refs);
	memset(k, 0, sizeof(*k));
	cl->has[f][d] = false;
}

static void
cpol_free(void *p)
{
	struct cpol *cl = p;
	size_t f, d;

	if (!cl)
		return;
	for (f = 0; f < 2; f++)
		for (d = 0; d < 2; d++)
			kept_drop(cl, f, d);
	free(cl);
}

void
npd_compile_chains_reset(struct npd_compile_state *st)
{
	npd_map_clear(&st->cpols, cpol_free);
	npd_map_clear(&st->gnames, npd_compile_gname_free);
}

/* Everything but the node, which the state checks itself. */
static bool
opts_equal(const struct npd_compile_opts *a, const struct npd_compile_opts *b)
{
	return a->mark == b->mark && a->nflog_group == b->nflog_group &&
	       a->log_per_sec == b->log_per_sec &&
	       a->max_rules_per_policy == b->max_rules_per_policy &&
	       a->max_set_members == b->max_set_members;
}

void
npd_compile_chains_begin(struct npd_cc *c)
{
	struct npd_compile_state *st = c->st;

	if (st->have_opts && opts_equal(&st->opts, c->o))
		return;
	npd_compile_chains_reset(st);
	st->opts = *c->o;
	st->opts.node_name = NULL;
	st->have_opts = true;
}

struct npd_cc_kept *
npd_compile_chains_policy(struct npd_cc *c, const struct npd_policy *pol, int d)
{
	struct npd_compile_state *st = c->st;
	int f = fam_index(c->family);
	struct cpol *cl;

	npd_compile_state_key(&st->key, pol->ns, pol->name);
	cl = npd_map_get(&st->cpols, st->key.data);
	return cl && cl->has[f][d] ? &cl->k[f][d] : NULL;
}

void
npd_compile_chains_emitted(struct npd_cc *c, const struct npd_policy *pol, int d, const char *name,
			   bool copied)
{
	struct npd_cc_emitted *e;

	npd_xgrow(&c->emitted, &c->cap_emitted, c->n_emitted + 1, sizeof(*c->emitted));
	e = &c->emitted[c->n_emitted++];
	e->pol = pol;
	e->d = d;
	e->family = c->family;
	e->copied = copied;
	memcpy(e->name, name, sizeof(e->name));
	e->ref_at = c->n_refs;
}

void
npd_compile_chains_dirty_policy(struct npd_compile_state *st, const char *ns, const char *name)
{
	npd_compile_state_key(&st->key, ns, name);
	cpol_free(npd_map_del(&st->cpols, st->key.data));
}

/* Keeps the policy chains built in this compile, with how they made their sets, unless
 * their policy went over a bound (copied or built): the copy would hold the rules the
 * bound emptied. */
static void
keep_policies(struct npd_cc *c)
{
	struct npd_compile_state *st = c->st;
	size_t i;

	for (i = 0; i < c->n_emitted; i++) {
		const struct npd_cc_emitted *e = &c->emitted[i];
		size_t end = i + 1 < c->n_emitted ? c->emitted[i + 1].ref_at : c->n_refs;
		int f = fam_index(e->family);
		struct npd_cc_kept *k;
		struct cpol *cl;

		npd_compile_state_key(&st->key, e->pol->ns, e->pol->name);
		cl = npd_map_get(&st->cpols, st->key.data);
		if (npd_compile_is_reported(c, e->pol->ns, e->pol->name)) {
			cpol_free(npd_map_del(&st->cpols, st->key.data));
			continue;
		}
		if (!cl) {
			cl = npd_xcalloc(1, sizeof(*cl));
			npd_map_set(&st->cpols, st->key.data, cl);
		}
		cl->used = cl->used_k[f][e->d] = st->epoch;
		if (e->copied || cl->has[f][e->d])
			continue;
		k = &cl->k[f][e->d];
		npd_chain_share(&k->ch,
				npd_ruleset_find_chain_mut(f ? &c->rs->v6 : &c->rs->v4, e->name));
		/* The refs move: c's copies are cleared so that run frees only the rest. */
		k->n_refs = end - e->ref_at;
		if (k->n_refs) {
			k->refs = npd_xmalloc(k->n_refs * sizeof(*k->refs));
			memcpy(k->refs, &c->refs[e->ref_at], k->n_refs * sizeof(*k->refs));
			memset(&c->refs[e->ref_at], 0, k->n_refs * sizeof(*k->refs));
		}
		cl->has[f][e->d] = true;
	}
}

/* Forgets the chains of the policies this compile emitted that it did not emit itself. */
static void
trim_policies(struct npd_compile_state *st)
{
	size_t it = 0, f, d;
	void *v;

	while (npd_map_next(&st->cpols, &it, NULL, &v)) {
		struct cpol *cl = v;

		if (cl->used != st->epoch)
			continue;
		for (f = 0; f < 2; f++)
			for (d = 0; d < 2; d++)
				if (cl->used_k[f][d] != st->epoch)
					kept_drop(cl, f, d);
	}
}

/* Frees the values of m whose used epoch (read by used_of) is not epoch. */
static void
sweep(struct npd_map *m, uint64_t epoch, uint64_t (*used_of)(const void *),
      void (*free_value)(void *))
{
	char **gone = NULL;
	size_t it = 0, n = 0, cap = 0, i;
	const char *k;
	void *v;

	/* Copies of the keys: deleting frees the map's. */
	while (npd_map_next(m, &it, &k, &v))
		if (used_of(v) != epoch) {
			npd_xgrow(&gone, &cap, n + 1, sizeof(*gone));
			gone[n++] = npd_xstrdup(k);
		}
	for (i = 0; i < n; i++) {
		free_value(npd_map_del(m, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

static uint64_t
cpol_used(const void *p)
{
	return ((const struct cpol *)p)->used;
}

void
npd_compile_chains_keep(struct npd_cc *c)
{
	struct npd_compile_state *st = c->st;

	keep_policies(c);
	trim_policies(st);
	sweep(&st->cpols, st->epoch, cpol_used, cpol_free);
	sweep(&st->gnames, st->epoch, npd_compile_gname_used, npd_compile_gname_free);
	refs_free(c->refs, c->n_refs);
	free(c->refs);
	free(c->emitted);
	c->refs = NULL;
	c->emitted = NULL;
	c->n_refs = c->n_emitted = 0;
}
