/* compile_state.c: the incremental compiler's memory between compiles of one node. It
 * keeps every pod-derived set the last ruleset held (selector peers, named ports,
 * ipBlock-resolved named ports) with its members, the node's local pods, and indexes
 * from a label pair, a namespace or a namespace label pair to the sets a pod with it can
 * join, and from an address to the sets holding it. Re-testing an address checks it only
 * against the sets holding it and the sets its owner can join; which addresses a change
 * moves is compile_incr.c's to say. The chains emitted are kept apart, by
 * compile_chains.c. Pure: no I/O, no clock, no globals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "compile_int.h"
#include "compile_state_int.h"

/* One pod-derived set: what it selects (owned copies behind a npd_cc_pick) and its
 * members. */
struct cset {
	char *id;
	char name[NPD_SET_NAMELEN];
	uint8_t family;
	bool has_ns_sel, has_pod_sel, local_only, has_block;
	struct npd_selector ns_sel, pod_sel;
	char *ns, *port_name;
	enum npd_proto proto;
	struct npd_peer block; /* cidr and except only */
	char *anchor;	       /* the anchors key it is listed under; NULL: in wide */
	/* Its members, sorted by npd_set_entry_cmp, one per address (NULL: none yet), held
	 * also by the rulesets it was handed to: changed through npd_entry_block_own only. */
	struct npd_entry_block *b;
	uint64_t used;	/* epoch of the last compile that emitted it */
	uint64_t stamp; /* visited mark while re-testing one address */
	uint64_t dirty; /* epoch of the last compile that changed it */
};

static size_t
cs_n(const struct cset *cs)
{
	return cs->b ? cs->b->n : 0;
}

static void
cvec_add(struct cvec *v, struct cset *cs)
{
	npd_xgrow(&v->v, &v->cap, v->n + 1, sizeof(*v->v));
	v->v[v->n++] = cs;
}

static void
cvec_del(struct cvec *v, const struct cset *cs)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->v[i] == cs) {
			v->v[i] = v->v[--v->n];
			return;
		}
}

static void
cvec_free(void *p)
{
	struct cvec *v = p;

	free(v->v);
	free(v);
}

static void
cset_pick(const struct cset *cs, struct npd_cc_pick *p)
{
	memset(p, 0, sizeof(*p));
	p->ns_sel = cs->has_ns_sel ? &cs->ns_sel : NULL;
	p->ns = cs->ns;
	p->pod_sel = cs->has_pod_sel ? &cs->pod_sel : NULL;
	p->port_name = cs->port_name;
	p->proto = cs->proto;
	p->local_only = cs->local_only;
	p->block = cs->has_block ? &cs->block : NULL;
}

static void
cset_free(void *p)
{
	struct cset *cs = p;

	free(cs->id);
	npd_selector_fini(&cs->ns_sel);
	npd_selector_fini(&cs->pod_sel);
	free(cs->ns);
	free(cs->port_name);
	free(cs->block.except);
	free(cs->anchor);
	npd_entry_block_unref(cs->b);
	free(cs);
}

static const char *
addr_key(const struct npd_addr *a, char buf[NPD_ADDRSTRLEN])
{
	return npd_addr_format(a, buf);
}

static void
rev_add(struct npd_compile_state *st, const struct npd_addr *a, struct cset *cs)
{
	char buf[NPD_ADDRSTRLEN];
	const char *k = addr_key(a, buf);
	struct cvec *v = npd_map_get(&st->rev, k);

	if (!v) {
		v = npd_xcalloc(1, sizeof(*v));
		npd_map_set(&st->rev, k, v);
	}
	cvec_add(v, cs);
}

static void
rev_del(struct npd_compile_state *st, const struct npd_addr *a, const struct cset *cs)
{
	char buf[NPD_ADDRSTRLEN];
	const char *k = addr_key(a, buf);
	struct cvec *v = npd_map_get(&st->rev, k);

	if (!v)
		return;
	cvec_del(v, cs);
	if (!v->n)
		cvec_free(npd_map_del(&st->rev, k));
}

/* The narrowest index entry every pod the set can hold is found under: a matchLabels
 * pair of the pod selector, the namespace, a matchLabels pair of the namespace selector;
 * else none (the set is re-tested for every address). */
static char *
anchor_of(const struct npd_cc_pick *p)
{
	if (p->pod_sel && p->pod_sel->match_labels.n)
		return npd_xasprintf("p\x1f%s\x1f%s", p->pod_sel->match_labels.v[0].key,
				     p->pod_sel->match_labels.v[0].value);
	if (!p->ns_sel)
		return npd_xasprintf("n\x1f%s", p->ns);
	if (p->ns_sel->match_labels.n)
		return npd_xasprintf("q\x1f%s\x1f%s", p->ns_sel->match_labels.v[0].key,
				     p->ns_sel->match_labels.v[0].value);
	return NULL;
}

static void
collect_entry(const struct npd_set_entry *e, void *arg)
{
	struct cset *cs = arg;

	npd_entry_block_own(&cs->b, 1);
	cs->b->e[cs->b->n++] = *e;
}

static int
entry_qcmp(const void *a, const void *b)
{
	return npd_set_entry_cmp(a, b);
}

static struct cset *
cset_new(struct npd_compile_state *st, const struct npd_store *s, const char *id, uint8_t family,
	 const struct npd_cc_pick *p)
{
	struct cset *cs = npd_xcalloc(1, sizeof(*cs));
	struct npd_cc_pick q;
	struct cvec *v;
	size_t i;

	cs->id = npd_xstrdup(id);
	cs->family = family;
	cs->has_ns_sel = p->ns_sel != NULL;
	if (p->ns_sel)
		npd_selector_copy(&cs->ns_sel, p->ns_sel);
	cs->has_pod_sel = p->pod_sel != NULL;
	if (p->pod_sel)
		npd_selector_copy(&cs->pod_sel, p->pod_sel);
	cs->ns = npd_xstrdup(p->ns);
	cs->port_name = npd_xstrdup(p->port_name);
	cs->proto = p->proto;
	cs->local_only = p->local_only;
	if (p->block) {
		cs->has_block = true;
		cs->block.kind = NPD_PEER_IPBLOCK;
		cs->block.cidr = p->block->cidr;
		cs->block.n_except = p->block->n_except;
		if (p->block->n_except) {
			cs->block.except =
			    npd_xmalloc(p->block->n_except * sizeof(*cs->block.except));
			memcpy(cs->block.except, p->block->except,
			       p->block->n_except * sizeof(*cs->block.except));
		}
	}
	cset_pick(cs, &q);
	cs->anchor = anchor_of(&q);
	npd_compile_pick_walk(s, st->node, family, &q, collect_entry, cs);
	/* One owner per address, so no duplicates: sorting is all the seal would do. */
	if (cs_n(cs) > 1)
		qsort(cs->b->e, cs->b->n, sizeof(cs->b->e[0]), entry_qcmp);
	for (i = 0; i < cs_n(cs); i++)
		rev_add(st, &cs->b->e[i].addr, cs);
	if (cs->anchor) {
		v = npd_map_get(&st->anchors, cs->anchor);
		if (!v) {
			v = npd_xcalloc(1, sizeof(*v));
			npd_map_set(&st->anchors, cs->anchor, v);
		}
		cvec_add(v, cs);
	} else {
		cvec_add(&st->wide, cs);
	}
	npd_map_set(&st->sets, id, cs);
	return cs;
}

static void
cset_drop(struct npd_compile_state *st, struct cset *cs)
{
	struct cvec *v;
	size_t i;

	for (i = 0; i < cs_n(cs); i++)
		rev_del(st, &cs->b->e[i].addr, cs);
	if (cs->anchor) {
		v = npd_map_get(&st->anchors, cs->anchor);
		if (v) {
			cvec_del(v, cs);
			if (!v->n)
				cvec_free(npd_map_del(&st->anchors, cs->anchor));
		}
	} else {
		cvec_del(&st->wide, cs);
	}
	npd_map_del(&st->sets, cs->id);
	cset_free(cs);
}

void
npd_compile_state_dirty_name(struct npd_compile_state *st, const char *name)
{
	npd_xgrow(&st->dirty, &st->cap_dirty, st->n_dirty + 1, sizeof(*st->dirty));
	snprintf(st->dirty[st->n_dirty++], NPD_SET_NAMELEN, "%s", name);
}

static void
mark_dirty(struct npd_compile_state *st, struct cset *cs)
{
	if (cs->dirty == st->epoch)
		return;
	cs->dirty = st->epoch;
	npd_compile_state_dirty_name(st, cs->name);
}

void
npd_compile_state_fill(struct npd_cc *c, struct npd_set *set, const struct npd_cc_pick *p)
{
	struct npd_compile_state *st = c->st;
	struct cset *cs = npd_map_get(&st->sets, c->id.data);

	if (!cs) {
		/* Only a copied chain's sets come without a pick, and the last compile, which
		 * emitted that chain, kept them all. */
		if (!p)
			abort();
		cs = cset_new(st, c->s, c->id.data, c->family, p);
		memcpy(cs->name, set->name, sizeof(cs->name));
		mark_dirty(st, cs);
	}
	memcpy(cs->name, set->name, sizeof(cs->name));
	cs->used = st->epoch;
	/* By reference, not by copy: most sets do not change from one compile to the next,
	 * and the biggest hold tens of thousands of pods. retest keeps the block sorted by
	 * npd_set_entry_cmp with one entry per address, as a sealed set's are. */
	if (cs_n(cs))
		npd_set_share(set, cs->b);
}

/* The first entry of cs at or after address a. */
static size_t
lower_bound(const struct cset *cs, const struct npd_addr *a)
{
	size_t lo = 0, hi = cs_n(cs);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (npd_addr_cmp(&cs->b->e[mid].addr, a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Makes cs's entry for address a what its owner w (NULL: none) gives. */
static void
retest(struct npd_compile_state *st, const struct npd_store *s, struct cset *cs,
       const struct npd_addr *a, const struct npd_pod *w)
{
	struct npd_set_entry e;
	struct npd_cc_pick p;
	size_t pos = lower_bound(cs, a);
	bool have = pos < cs_n(cs) && !npd_addr_cmp(&cs->b->e[pos].addr, a), want;
	struct npd_entry_block *b;

	cset_pick(cs, &p);
	want = w && npd_compile_pick_matches(s, &p, w) &&
	       npd_compile_pick_entry(s, st->node, cs->family, &p, w, a, &e);
	if (have ? want && !npd_set_entry_cmp(&cs->b->e[pos], &e) : !want)
		return; /* unchanged: neither copied nor called dirty */
	/* The last ruleset still holds the block as it was: this copies it once. */
	npd_entry_block_own(&cs->b, want && !have);
	b = cs->b;
	if (have) {
		memmove(&b->e[pos], &b->e[pos + 1], (b->n - pos - 1) * sizeof(b->e[0]));
		b->n--;
		if (!want)
			rev_del(st, a, cs);
	}
	if (want) {
		memmove(&b->e[pos + 1], &b->e[pos], (b->n - pos) * sizeof(b->e[0]));
		b->e[pos] = e;
		b->n++;
		if (!have)
			rev_add(st, a, cs);
	}
	mark_dirty(st, cs);
}

static void
retest_list(struct npd_compile_state *st, const struct npd_store *s, const struct cvec *v,
	    const struct npd_addr *a, const struct npd_pod *w)
{
	size_t i;

	for (i = 0; v && i < v->n; i++)
		if (v->v[i]->stamp != st->stamp) {
			v->v[i]->stamp = st->stamp;
			retest(st, s, v->v[i], a, w);
		}
}

static const struct cvec *
anchored(struct npd_compile_state *st, char kind, const char *k, const char *v)
{
	npd_buf_reset(&st->key);
	npd_buf_printf(&st->key, v ? "%c\x1f%s\x1f%s" : "%c\x1f%s", kind, k, v);
	return npd_map_get(&st->anchors, st->key.data);
}

void
npd_compile_state_retest_addr(struct npd_compile_state *st, const struct npd_store *s,
			      const struct npd_addr *a)
{
	const struct npd_pod *w = npd_store_pod_by_ip(s, a);
	char buf[NPD_ADDRSTRLEN];
	const struct cvec *held = npd_map_get(&st->rev, addr_key(a, buf));
	struct cvec snap = {0};
	size_t i;

	/* Which pod owns it may have changed: the local pods holding it own theirs anew. */
	if (npd_map_get(&st->local_addrs, buf))
		st->owned_stale_all = true;
	st->stamp++;
	/* A copy: re-testing removes sets from the list being walked. */
	if (held && held->n) {
		snap.n = snap.cap = held->n;
		snap.v = npd_xmalloc(held->n * sizeof(*snap.v));
		memcpy(snap.v, held->v, held->n * sizeof(*snap.v));
		retest_list(st, s, &snap, a, w);
		free(snap.v);
	}
	if (!w)
		return;
	for (i = 0; i < w->labels.n; i++)
		retest_list(st, s, anchored(st, 'p', w->labels.v[i].key, w->labels.v[i].value), a,
			    w);
	retest_list(st, s, anchored(st, 'n', w->ns, NULL), a, w);
	{
		const struct npd_labels *nl = npd_store_ns_labels(s, w->ns);

		for (i = 0; nl && i < nl->n; i++)
			retest_list(st, s, anchored(st, 'q', nl->v[i].key, nl->v[i].value), a, w);
	}
	retest_list(st, s, &st->wide, a, w);
}

void
npd_compile_state_retest_pod(struct npd_compile_state *st, const struct npd_store *s,
			     const struct npd_pod *pod)
{
	size_t i;

	for (i = 0; pod && i < pod->n_ips; i++)
		npd_compile_state_retest_addr(st, s, &pod->ips[i]);
}

static void
kept_local_free(void *p)
{
	struct npd_cc_kept_local *k = p;

	if (!k)
		return;
	for (int d = 0; d < 2; d++) {
		free(k->l.pols[d]);
		free(k->gid[d]);
	}
	free(k->ns);
	free(k->ips);
	free(k);
}

/* Counts the addresses of kept local pod k once more (d 1) or once less (-1). */
static void
count_local_addrs(struct npd_compile_state *st, const struct npd_cc_kept_local *k, int d)
{
	char buf[NPD_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < k->n_ips; i++)
		npd_map_count_add(&st->local_addrs, addr_key(&k->ips[i], buf), d);
}

static void
forget_local(struct npd_compile_state *st, const char *key)
{
	struct npd_cc_kept_local *k = npd_map_del(&st->locals, key);

	if (k)
		count_local_addrs(st, k, -1);
	kept_local_free(k);
}

void
npd_compile_state_local_addrs(struct npd_compile_state *st, struct npd_cc_kept_local *k,
			      const struct npd_pod *pod)
{
	count_local_addrs(st, k, -1);
	free(k->ips);
	k->n_ips = pod->n_ips;
	k->ips = k->n_ips ? npd_xmalloc(k->n_ips * sizeof(*k->ips)) : NULL;
	if (k->n_ips)
		memcpy(k->ips, pod->ips, k->n_ips * sizeof(*k->ips));
	count_local_addrs(st, k, 1);
	k->owned_stale = true;
}

void
npd_compile_state_track_local(struct npd_compile_state *st, const struct npd_pod *pod,
			      const char *ns, const char *name)
{
	bool here = pod && pod->node && !strcmp(pod->node, st->node);
	struct npd_cc_kept_local *k;

	npd_compile_state_key(&st->key, ns, name);
	k = npd_map_get(&st->locals, st->key.data);
	if (!here) {
		if (k) {
			forget_local(st, st->key.data);
			st->lv_stale = true;
		}
		return;
	}
	if (!k) {
		size_t n = strlen(ns) + 1, m = strlen(name) + 1;

		k = npd_xcalloc(1, sizeof(*k));
		k->ns = npd_xmalloc(n + m);
		memcpy(k->ns, ns, n);
		k->name = k->ns + n;
		memcpy(k->name, name, m);
		npd_map_set(&st->locals, st->key.data, k);
		st->lv_stale = true;
	}
	k->dirty = true;
}

void
npd_compile_state_dirty_locals_in(struct npd_compile_state *st, const char *ns)
{
	size_t it = 0;
	void *v;

	while (npd_map_next(&st->locals, &it, NULL, &v)) {
		struct npd_cc_kept_local *k = v;

		if (!strcmp(k->ns, ns))
			k->dirty = true;
	}
}

static int
local_qcmp(const void *a, const void *b)
{
	const struct npd_cc_kept_local *x = *(const struct npd_cc_kept_local *const *)a;
	const struct npd_cc_kept_local *y = *(const struct npd_cc_kept_local *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

struct npd_cc_kept_local *const *
npd_compile_state_locals(struct npd_compile_state *st, const struct npd_store *s, size_t *n)
{
	size_t it = 0, i, j;
	void *v;

	if (st->lv_stale) {
		st->n_lv = 0;
		while (npd_map_next(&st->locals, &it, NULL, &v)) {
			npd_xgrow(&st->lv, &st->cap_lv, st->n_lv + 1, sizeof(*st->lv));
			st->lv[st->n_lv++] = v;
		}
		if (st->n_lv > 1)
			qsort(st->lv, st->n_lv, sizeof(*st->lv), local_qcmp);
		st->lv_stale = false;
	}
	/* Only a logged change marks a pod dirty, and the store keeps an object that nothing
	 * logged replaced, so the pod of a clean one is still the store's. */
	for (i = j = 0; i < st->n_lv; i++) {
		struct npd_cc_kept_local *k = st->lv[i];

		if (k->dirty) {
			k->l.pod = npd_store_get_pod(s, k->ns, k->name);
			if (!k->l.pod) {
				npd_compile_state_key(&st->key, k->ns, k->name);
				forget_local(st, st->key.data);
				continue;
			}
		}
		st->lv[j++] = k;
	}
	st->n_lv = j;
	*n = st->n_lv;
	return st->lv;
}

void
npd_compile_state_reset(struct npd_compile_state *st)
{
	npd_map_clear(&st->sets, cset_free);
	npd_map_clear(&st->anchors, cvec_free);
	npd_map_clear(&st->rev, cvec_free);
	npd_map_clear(&st->locals, kept_local_free);
	npd_map_clear(&st->local_addrs, NULL);
	st->owned_stale_all = false;
	st->n_lv = 0;
	st->lv_stale = true;
	npd_compile_chains_reset(st);
	st->have_opts = false;
	st->wide.n = 0;
	st->built = false;
	free(st->node);
	st->node = NULL;
}

struct npd_compile_state *
npd_compile_state_new(void)
{
	struct npd_compile_state *st = npd_xcalloc(1, sizeof(*st));

	npd_map_init(&st->sets);
	npd_map_init(&st->anchors);
	npd_map_init(&st->rev);
	npd_map_init(&st->locals);
	npd_map_init(&st->local_addrs);
	npd_map_init(&st->cpols);
	npd_map_init(&st->gnames);
	npd_buf_init(&st->key);
	return st;
}

void
npd_compile_state_free(struct npd_compile_state *st)
{
	if (!st)
		return;
	npd_compile_state_reset(st);
	npd_map_fini(&st->sets);
	npd_map_fini(&st->anchors);
	npd_map_fini(&st->rev);
	npd_map_fini(&st->locals);
	npd_map_fini(&st->local_addrs);
	npd_map_fini(&st->cpols);
	npd_map_fini(&st->gnames);
	free(st->wide.v);
	free(st->lv);
	free(st->dirty);
	npd_buf_fini(&st->key);
	free(st);
}

void
npd_compile_state_sweep(struct npd_compile_state *st)
{
	struct cset **gone = NULL;
	size_t it = 0, n = 0, cap = 0, i;
	void *v;

	while (npd_map_next(&st->sets, &it, NULL, &v)) {
		struct cset *cs = v;

		if (cs->used != st->epoch) {
			npd_xgrow(&gone, &cap, n + 1, sizeof(*gone));
			gone[n++] = cs;
		}
	}
	for (i = 0; i < n; i++)
		cset_drop(st, gone[i]);
	free(gone);
}

const char (*npd_compile_state_dirty_sets(const struct npd_compile_state *st, size_t *n,
					  bool *all))[NPD_SET_NAMELEN]
{
	*n = st->n_dirty;
	*all = st->dirty_all;
	return (const char(*)[NPD_SET_NAMELEN])st->dirty;
}

static int
cmp_addr(const void *x, const void *y)
{
	return npd_addr_cmp(x, y);
}

struct npd_addr *
npd_compile_state_node_addrs(const struct npd_compile_state *st, size_t *n)
{
	struct npd_addr *v = NULL;
	size_t it = 0, cap = 0, i;
	void *val;

	*n = 0;
	while (npd_map_next(&st->locals, &it, NULL, &val)) {
		const struct npd_cc_kept_local *k = val;

		for (i = 0; i < k->n_ips; i++) {
			npd_xgrow(&v, &cap, *n + 1, sizeof(*v));
			v[(*n)++] = k->ips[i];
		}
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_addr);
	return v;
}
