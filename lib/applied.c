/* applied.c: what netpold believes the kernel holds. The known part is a sealed ruleset
 * (the last desired ruleset that reached the kernel, or only the hooks found at start);
 * beside it, sorted name lists of the chains and sets that exist with unknown content, and
 * a flag per family for unknown hooks. An object is in at most one of the two. Unknown is
 * never a sentinel inside the ruleset: the differ plans from the known part and this file
 * adds what the unknown objects require. Pure: no I/O, no clock, no logging. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/applied.h"
#include "npd/map.h"
#include "npd/mem.h"

struct npd_applied {
	bool known;		  /* false: not listed yet, or an apply failed since */
	struct npd_ruleset *rs;	  /* the known part; never NULL */
	struct npd_map chains[2]; /* unknown content, by family index (a set of names) */
	struct npd_map sets;	  /* unknown content (a set of names) */
	bool hooks_unknown[2];
};

static const uint8_t families[2] = {AF_INET, AF_INET6};

static size_t
fam_index(uint8_t family)
{
	return family == AF_INET6 ? 1 : 0;
}

static bool
names_has(const struct npd_map *m, const char *name)
{
	return npd_map_get(m, name) != NULL;
}

/* The map is used as a set: every value is the map itself. */
static void
names_add(struct npd_map *m, const char *name)
{
	npd_map_set(m, name, m);
}

static void
names_clear(struct npd_applied *ap)
{
	size_t f;

	for (f = 0; f < 2; f++) {
		npd_map_fini(&ap->chains[f]);
		npd_map_init(&ap->chains[f]);
	}
	npd_map_fini(&ap->sets);
	npd_map_init(&ap->sets);
}

/* Forgets everything: afterwards the known part is rs (sealed, owned), or empty. */
static void
reset(struct npd_applied *ap, struct npd_ruleset *rs)
{
	npd_ruleset_free(ap->rs);
	if (!rs) {
		rs = npd_ruleset_new();
		npd_ruleset_seal(rs);
	}
	ap->rs = rs;
	names_clear(ap);
	ap->hooks_unknown[0] = ap->hooks_unknown[1] = false;
}

struct npd_applied *
npd_applied_new(void)
{
	struct npd_applied *ap = npd_xcalloc(1, sizeof(*ap));

	npd_map_init(&ap->chains[0]);
	npd_map_init(&ap->chains[1]);
	npd_map_init(&ap->sets);
	reset(ap, NULL);
	return ap;
}

void
npd_applied_free(struct npd_applied *ap)
{
	if (!ap)
		return;
	npd_map_fini(&ap->chains[0]);
	npd_map_fini(&ap->chains[1]);
	npd_map_fini(&ap->sets);
	npd_ruleset_free(ap->rs);
	free(ap);
}

bool
npd_applied_is_known(const struct npd_applied *ap)
{
	return ap->known;
}

void
npd_applied_discover(struct npd_applied *ap, const struct npd_owned *o)
{
	size_t f, i;

	reset(ap, NULL);
	for (f = 0; f < 2; f++) {
		const struct npd_owned_family *of = npd_owned_get_family(o, families[f]);
		struct npd_table *t = npd_ruleset_table(ap->rs, families[f]);

		/* More hooks than a table can hold means someone duplicated ours: unknown. */
		if (of->hook_displaced || of->n_hooks > NPD_ARRAY_SIZE(t->hooks)) {
			ap->hooks_unknown[f] = true;
			continue;
		}
		for (i = 0; i < of->n_hooks; i++)
			npd_ruleset_add_hook(t, of->hooks[i].builtin, of->hooks[i].chain);
	}
	for (i = 0; i < o->n_chains; i++)
		names_add(&ap->chains[fam_index(o->chains[i].family)], o->chains[i].name);
	for (i = 0; i < o->n_sets; i++)
		names_add(&ap->sets, o->sets[i].name);
	npd_ruleset_seal(ap->rs);
	ap->known = true;
}

/* The owned list sorted for lookups: resyncs at scale compare thousands of chains. */
struct owned_index {
	const struct npd_owned_chain **chains;
	const struct npd_owned_set **sets;
	size_t n_chains, n_sets;
};

static int
owned_chain_cmp(const void *a, const void *b)
{
	const struct npd_owned_chain *x = *(const struct npd_owned_chain *const *)a;
	const struct npd_owned_chain *y = *(const struct npd_owned_chain *const *)b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
owned_set_cmp(const void *a, const void *b)
{
	const struct npd_owned_set *x = *(const struct npd_owned_set *const *)a;
	const struct npd_owned_set *y = *(const struct npd_owned_set *const *)b;

	return strcmp(x->name, y->name);
}

static void
index_init(struct owned_index *ix, const struct npd_owned *o)
{
	size_t i;

	ix->n_chains = o->n_chains;
	ix->n_sets = o->n_sets;
	ix->chains = npd_xcalloc(o->n_chains + 1, sizeof(*ix->chains));
	ix->sets = npd_xcalloc(o->n_sets + 1, sizeof(*ix->sets));
	for (i = 0; i < o->n_chains; i++)
		ix->chains[i] = &o->chains[i];
	for (i = 0; i < o->n_sets; i++)
		ix->sets[i] = &o->sets[i];
	qsort(ix->chains, ix->n_chains, sizeof(*ix->chains), owned_chain_cmp);
	qsort(ix->sets, ix->n_sets, sizeof(*ix->sets), owned_set_cmp);
}

static void
index_fini(struct owned_index *ix)
{
	free(ix->chains);
	free(ix->sets);
}

static const struct npd_owned_chain *
index_chain(const struct owned_index *ix, uint8_t family, const char *name)
{
	struct npd_owned_chain key;
	const struct npd_owned_chain *k = &key, **hit;

	memset(&key, 0, sizeof(key));
	key.family = family;
	snprintf(key.name, sizeof(key.name), "%s", name);
	hit = bsearch(&k, ix->chains, ix->n_chains, sizeof(*ix->chains), owned_chain_cmp);
	return hit ? *hit : NULL;
}

static const struct npd_owned_set *
index_set(const struct owned_index *ix, const char *name)
{
	struct npd_owned_set key;
	const struct npd_owned_set *k = &key, **hit;

	memset(&key, 0, sizeof(key));
	snprintf(key.name, sizeof(key.name), "%s", name);
	hit = bsearch(&k, ix->sets, ix->n_sets, sizeof(*ix->sets), owned_set_cmp);
	return hit ? *hit : NULL;
}

struct drift_ctx {
	npd_drift_fn fn;
	void *ctx;
	size_t n;
};

static void
report(struct drift_ctx *dc, enum npd_drift_kind kind, uint8_t family, const char *name,
       size_t want, size_t have)
{
	struct npd_drift d = {kind, family, name, want, have};

	dc->n++;
	if (dc->fn)
		dc->fn(&d, dc->ctx);
}

static void
drift_chains(struct npd_applied *ap, size_t f, const struct owned_index *ix,
	     const struct npd_owned *o, struct drift_ctx *dc)
{
	struct npd_table *t = npd_ruleset_table(ap->rs, families[f]);
	struct npd_map *unknown = &ap->chains[f];
	const char *name;
	size_t i, it = 0;

	/* Backwards, as a drifted chain leaves the known part. */
	for (i = t->n_chains; i-- > 0;) {
		struct npd_chain *c = &t->chains[i];
		const struct npd_owned_chain *oc = index_chain(ix, t->family, c->name);

		if (!oc) {
			report(dc, NPD_DRIFT_CHAIN_MISSING, t->family, c->name, 0, 0);
		} else if (oc->n_rules != c->n_rules) {
			report(dc, NPD_DRIFT_CHAIN_RULES, t->family, c->name, c->n_rules,
			       oc->n_rules);
			names_add(unknown, c->name);
		} else {
			continue;
		}
		npd_ruleset_del_chain(t, c->name);
	}
	/* Deleting the current key is safe: the map leaves a tombstone and moves nothing. */
	while (npd_map_next(unknown, &it, &name, NULL)) {
		if (index_chain(ix, t->family, name))
			continue;
		report(dc, NPD_DRIFT_CHAIN_MISSING, t->family, name, 0, 0);
		npd_map_del(unknown, name);
	}
	for (i = 0; i < o->n_chains; i++) {
		const struct npd_owned_chain *oc = &o->chains[i];

		if (oc->family != t->family || npd_ruleset_find_chain(t, oc->name) ||
		    names_has(unknown, oc->name))
			continue;
		report(dc, NPD_DRIFT_CHAIN_EXTRA, t->family, oc->name, 0, 0);
		names_add(unknown, oc->name);
	}
}

static void
drift_hooks(struct npd_applied *ap, size_t f, const struct npd_owned *o, struct drift_ctx *dc)
{
	const struct npd_owned_family *of = npd_owned_get_family(o, families[f]);
	struct npd_table *t = npd_ruleset_table(ap->rs, families[f]);

	if (ap->hooks_unknown[f])
		return;
	if (!of->hook_displaced && npd_hooks_equal(t->hooks, t->n_hooks, of->hooks, of->n_hooks))
		return;
	report(dc, NPD_DRIFT_HOOKS, t->family, NULL, 0, 0);
	ap->hooks_unknown[f] = true;
}

static void
drift_sets(struct npd_applied *ap, const struct owned_index *ix, const struct npd_owned *o,
	   struct drift_ctx *dc)
{
	struct npd_ruleset *rs = ap->rs;
	const char *name;
	size_t i, it = 0;

	for (i = rs->n_sets; i-- > 0;) {
		const struct npd_set *s = &rs->sets[i];
		const struct npd_owned_set *os = index_set(ix, s->name);

		if (!os) {
			report(dc, NPD_DRIFT_SET_MISSING, 0, s->name, 0, 0);
		} else if (os->n_entries != s->n_entries) {
			report(dc, NPD_DRIFT_SET_ENTRIES, 0, s->name, s->n_entries, os->n_entries);
			names_add(&ap->sets, s->name);
		} else if (os->counters != s->counters) {
			/* Only a recreation gives it the counters the group chain's deny needs. */
			report(dc, NPD_DRIFT_SET_COUNTERS, 0, s->name, s->counters, os->counters);
			names_add(&ap->sets, s->name);
		} else {
			continue;
		}
		npd_ruleset_del_set(rs, s->name);
	}
	while (npd_map_next(&ap->sets, &it, &name, NULL)) {
		if (index_set(ix, name))
			continue;
		report(dc, NPD_DRIFT_SET_MISSING, 0, name, 0, 0);
		npd_map_del(&ap->sets, name);
	}
	for (i = 0; i < o->n_sets; i++) {
		if (npd_ruleset_find_set(rs, o->sets[i].name) ||
		    names_has(&ap->sets, o->sets[i].name))
			continue;
		report(dc, NPD_DRIFT_SET_EXTRA, 0, o->sets[i].name, 0, 0);
		names_add(&ap->sets, o->sets[i].name);
	}
}

size_t
npd_applied_mark_drift(struct npd_applied *ap, const struct npd_owned *o, npd_drift_fn fn,
		       void *ctx)
{
	struct drift_ctx dc = {fn, ctx, 0};
	struct owned_index ix;
	size_t f;

	if (!ap->known)
		return 0;
	index_init(&ix, o);
	for (f = 0; f < 2; f++) {
		drift_chains(ap, f, &ix, o, &dc);
		drift_hooks(ap, f, o, &dc);
	}
	drift_sets(ap, &ix, o, &dc);
	index_fini(&ix);
	return dc.n;
}

struct npd_plan *
npd_applied_plan(const struct npd_applied *ap, const struct npd_ruleset *desired)
{
	return npd_applied_plan_dirty(ap, desired, NULL, 0, true);
}

struct npd_plan *
npd_applied_plan_dirty(const struct npd_applied *ap, const struct npd_ruleset *desired,
		       const char (*dirty)[NPD_SET_NAMELEN], size_t n_dirty, bool all)
{
	struct npd_plan *p =
	    npd_differ_plan_dirty(ap->known ? ap->rs : NULL, desired, dirty, n_dirty, all);
	const char **v;
	size_t f, i, n;

	if (!ap->known)
		return p;
	/* An unknown object still desired is absent from the known part, so the differ
	 * already writes it (a set by an atomic swap); one not desired must go. */
	for (f = 0; f < 2; f++) {
		const struct npd_table *t = npd_ruleset_get_table(desired, families[f]);

		v = npd_map_sorted_keys(&ap->chains[f], &n);
		for (i = 0; i < n; i++)
			if (!npd_ruleset_find_chain(t, v[i]))
				npd_plan_add_chain_del(p, families[f], v[i]);
		free(v);
		if (ap->hooks_unknown[f])
			npd_plan_add_commit(p, families[f]);
	}
	v = npd_map_sorted_keys(&ap->sets, &n);
	for (i = 0; i < n; i++)
		if (!npd_ruleset_find_set(desired, v[i]))
			npd_plan_add_set_destroy(p, v[i]);
	free(v);
	return p;
}

void
npd_applied_commit(struct npd_applied *ap, struct npd_ruleset *desired)
{
	reset(ap, desired);
	ap->known = true;
}

void
npd_applied_forget(struct npd_applied *ap)
{
	reset(ap, NULL);
	ap->known = false;
}

const struct npd_ruleset *
npd_applied_known(const struct npd_applied *ap)
{
	return ap->rs;
}

enum npd_applied_state
npd_applied_chain_state(const struct npd_applied *ap, uint8_t family, const char *name)
{
	if (!ap->known || names_has(&ap->chains[fam_index(family)], name))
		return NPD_APPLIED_UNKNOWN;
	if (npd_ruleset_find_chain(npd_ruleset_get_table(ap->rs, family), name))
		return NPD_APPLIED_KNOWN;
	return NPD_APPLIED_ABSENT;
}

enum npd_applied_state
npd_applied_set_state(const struct npd_applied *ap, const char *name)
{
	if (!ap->known || names_has(&ap->sets, name))
		return NPD_APPLIED_UNKNOWN;
	if (npd_ruleset_find_set(ap->rs, name))
		return NPD_APPLIED_KNOWN;
	return NPD_APPLIED_ABSENT;
}

bool
npd_applied_hooks_known(const struct npd_applied *ap, uint8_t family)
{
	return ap->known && !ap->hooks_unknown[fam_index(family)];
}
