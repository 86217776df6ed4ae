/* xt_common.c: the ownership rules and the hook layout both xtables backends apply to a
 * table they have read. The layout keeps a built-in chain untouched when its first rules
 * already are exactly our desired jumps, alone and in order, and no other jump of ours
 * follows; otherwise it removes every jump of ours there and inserts the desired ones at
 * the top, so a displaced hook, a duplicate or a stale one is repaired in the same commit
 * and a rule of another writer is never touched. Pure: no kernel, no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/mem.h"
#include "xt_common.h"

bool
npd_xt_is_ours(const char *chain)
{
	return chain && !strncmp(chain, NPD_CHAIN_PREFIX, strlen(NPD_CHAIN_PREFIX));
}

void
npd_xt_table_init(struct npd_xt_table *t, uint8_t family)
{
	memset(t, 0, sizeof(*t));
	t->family = family;
}

void
npd_xt_table_fini(struct npd_xt_table *t)
{
	size_t i;

	for (i = 0; i < t->n_chains; i++)
		free(t->chains[i].rules);
	free(t->chains);
	memset(t, 0, sizeof(*t));
}

struct npd_xt_chain *
npd_xt_table_add_chain(struct npd_xt_table *t, const char *name, bool builtin)
{
	struct npd_xt_chain *c;

	npd_xgrow(&t->chains, &t->cap_chains, t->n_chains + 1, sizeof(*t->chains));
	c = &t->chains[t->n_chains++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->builtin = builtin;
	return c;
}

void
npd_xt_chain_add_rule(struct npd_xt_chain *c, const char *target, bool plain, const char *spec)
{
	struct npd_xt_rule *r;

	npd_xgrow(&c->rules, &c->cap_rules, c->n_rules + 1, sizeof(*c->rules));
	r = &c->rules[c->n_rules++];
	r->target = target;
	r->plain = plain;
	r->spec = spec;
}

const struct npd_xt_chain *
npd_xt_table_find(const struct npd_xt_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_chains; i++)
		if (!strcmp(t->chains[i].name, name))
			return &t->chains[i];
	return NULL;
}

bool
npd_xt_has_ours(const struct npd_xt_table *t)
{
	size_t i, j;

	for (i = 0; i < t->n_chains; i++) {
		const struct npd_xt_chain *c = &t->chains[i];

		if (npd_xt_is_ours(c->name))
			return true;
		for (j = 0; c->builtin && j < c->n_rules; j++)
			if (npd_xt_is_ours(c->rules[j].target))
				return true;
	}
	return false;
}

void
npd_xt_list_owned(const struct npd_xt_table *t, struct npd_owned *o, size_t *cap_chains)
{
	struct npd_owned_family *of = npd_owned_family(o, t->family);
	size_t i, j, cap_hooks = of->n_hooks, n_ours;

	for (i = 0; i < t->n_chains; i++) {
		const struct npd_xt_chain *c = &t->chains[i];

		if (npd_xt_is_ours(c->name)) {
			struct npd_owned_chain *oc;

			npd_xgrow(&o->chains, cap_chains, o->n_chains + 1, sizeof(*o->chains));
			oc = &o->chains[o->n_chains++];
			memset(oc, 0, sizeof(*oc));
			snprintf(oc->name, sizeof(oc->name), "%s", c->name);
			oc->family = t->family;
			oc->n_rules = c->n_rules;
			continue;
		}
		if (!c->builtin)
			continue;
		for (j = 0, n_ours = 0; j < c->n_rules; j++) {
			struct npd_hook *hk;

			if (!npd_xt_is_ours(c->rules[j].target))
				continue;
			/* A rule of another writer above ours sees the traffic first. */
			if (j != n_ours++)
				of->hook_displaced = true;
			npd_xgrow(&of->hooks, &cap_hooks, of->n_hooks + 1, sizeof(*of->hooks));
			hk = &of->hooks[of->n_hooks++];
			memset(hk, 0, sizeof(*hk));
			snprintf(hk->builtin, sizeof(hk->builtin), "%s", c->name);
			snprintf(hk->chain, sizeof(hk->chain), "%s", c->rules[j].target);
		}
	}
}

/* True when c already starts with exactly want[0..n) as plain jumps and holds no other
 * jump of ours. */
static bool
hooks_in_place(const struct npd_xt_chain *c, const char *const *want, size_t n)
{
	size_t i, n_ours = 0;

	for (i = 0; i < c->n_rules; i++) {
		const struct npd_xt_rule *r = &c->rules[i];

		if (!npd_xt_is_ours(r->target))
			continue;
		if (n_ours >= n || i != n_ours || strcmp(r->target, want[n_ours]) || !r->plain)
			return false;
		n_ours++;
	}
	return n_ours == n;
}

size_t
npd_xt_layout_hooks(const struct npd_xt_table *t, const struct npd_table *desired,
		    struct npd_hook_layout **out)
{
	struct npd_hook_layout *layouts = NULL;
	size_t n_layouts = 0, cap = 0, i, j;

	for (i = 0; i < t->n_chains; i++) {
		const struct npd_xt_chain *c = &t->chains[i];
		const char *want[NPD_XT_MAX_HOOKS];
		struct npd_hook_layout *p;
		size_t n = 0, cap_del = 0;

		if (!c->builtin)
			continue;
		for (j = 0; desired && j < desired->n_hooks && n < NPD_XT_MAX_HOOKS; j++)
			if (!strcmp(desired->hooks[j].builtin, c->name))
				want[n++] = desired->hooks[j].chain;
		if (hooks_in_place(c, want, n))
			continue;
		npd_xgrow(&layouts, &cap, n_layouts + 1, sizeof(*layouts));
		p = &layouts[n_layouts++];
		memset(p, 0, sizeof(*p));
		p->builtin = c->name;
		for (j = 0; j < c->n_rules; j++) {
			if (!npd_xt_is_ours(c->rules[j].target))
				continue;
			npd_xgrow(&p->del, &cap_del, p->n_del + 1, sizeof(*p->del));
			p->del[p->n_del++] = j;
		}
		memcpy(p->ins, want, n * sizeof(want[0]));
		p->n_ins = n;
	}
	*out = layouts;
	return n_layouts;
}

void
npd_hook_layouts_free(struct npd_hook_layout *layouts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(layouts[i].del);
	free(layouts);
}
