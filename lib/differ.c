/* differ.c compares the desired ruleset with the one last applied and plans the fewest
 * kernel operations: set creations and membership changes first (so every set a new rule
 * references exists and is filled before the table commit), then one table commit per
 * family that has written or deleted chains or different hooks, then destruction of sets
 * nothing references any more. Pure: both rulesets must be sealed; no I/O. A pod change
 * that leaves the selectors alone yields set updates only. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/differ.h"
#include "npd/map.h"
#include "npd/mem.h"

static struct npd_set_op *
add_op(struct npd_plan *p, size_t *cap, enum npd_set_op_kind kind, const char *name)
{
	struct npd_set_op *op;

	npd_xgrow(&p->set_ops, cap, p->n_set_ops + 1, sizeof(*p->set_ops));
	op = &p->set_ops[p->n_set_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	memcpy(op->name, name, sizeof(op->name));
	return op;
}

static void
push_entry(struct npd_set_entry **v, size_t *n, size_t *cap, const struct npd_set_entry *e)
{
	npd_xgrow(v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = *e;
}

/* Sorted merge of two sealed entry lists. Returns false when an entry only flips its
 * nomatch flag: the kernel keys elements without the flag, so add-then-delete would lose
 * the element; the caller recreates the set instead. */
static bool
diff_entries(const struct npd_set *a, const struct npd_set *d, struct npd_set_op *op)
{
	size_t i = 0, j = 0, cap_add = 0, cap_del = 0;

	while (i < a->n_entries || j < d->n_entries) {
		int c;

		if (i == a->n_entries)
			c = 1;
		else if (j == d->n_entries)
			c = -1;
		else
			c = npd_set_entry_cmp(&a->entries[i], &d->entries[j]);
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (i < a->n_entries && j < d->n_entries &&
		    !memcmp(&a->entries[i].addr, &d->entries[j].addr, sizeof(d->entries[j].addr)) &&
		    a->entries[i].prefix == d->entries[j].prefix &&
		    a->entries[i].proto == d->entries[j].proto &&
		    a->entries[i].port == d->entries[j].port)
			return false;
		if (c < 0)
			push_entry(&op->del, &op->n_del, &cap_del, &a->entries[i++]);
		else
			push_entry(&op->add, &op->n_add, &cap_add, &d->entries[j++]);
	}
	return true;
}

/* dirty: NULL, or the names of the only sets whose entries can differ from applied. */
static void
diff_sets(struct npd_plan *p, const struct npd_ruleset *applied, const struct npd_ruleset *desired,
	  const struct npd_map *dirty)
{
	size_t i = 0, j = 0, cap = 0, k, n_destroy = 0;
	size_t na = applied ? applied->n_sets : 0;
	const struct npd_set **destroy = NULL;
	size_t cap_destroy = 0;

	while (i < na || j < desired->n_sets) {
		const struct npd_set *a = i < na ? &applied->sets[i] : NULL;
		const struct npd_set *d = j < desired->n_sets ? &desired->sets[j] : NULL;
		int c = !a ? 1 : !d ? -1 : strcmp(a->name, d->name);
		struct npd_set_op *op;

		if (c < 0) {
			npd_xgrow(&destroy, &cap_destroy, n_destroy + 1, sizeof(*destroy));
			destroy[n_destroy++] = a;
			i++;
			continue;
		}
		j++;
		if (c > 0 || a->type != d->type || a->family != d->family ||
		    a->counters != d->counters) {
			/* Type and family are part of a set's identity, hence of its name: a
			 * change here is a hash collision, answered by a swap-in recreate. The
			 * counters extension is fixed at creation too, so it is recreated the
			 * same way. */
			if (c == 0)
				i++;
			op = add_op(p, &cap, NPD_SETOP_CREATE, d->name);
			op->set = d;
			continue;
		}
		i++;
		if (dirty && !npd_map_get(dirty, d->name))
			continue;
		op = add_op(p, &cap, NPD_SETOP_UPDATE, d->name);
		op->set = d;
		if (!diff_entries(a, d, op)) {
			free(op->add);
			free(op->del);
			memset(op, 0, sizeof(*op));
			op->kind = NPD_SETOP_CREATE;
			op->set = d;
			memcpy(op->name, d->name, sizeof(op->name));
		} else if (!op->n_add && !op->n_del) {
			p->n_set_ops--;
		}
	}
	for (k = 0; k < n_destroy; k++)
		add_op(p, &cap, NPD_SETOP_DESTROY, destroy[k]->name);
	free(destroy);
}

static void
diff_table(struct npd_table_change *chg, const struct npd_table *a, const struct npd_table *d)
{
	size_t i = 0, j = 0, na = a ? a->n_chains : 0, cap_w = 0, cap_d = 0;

	chg->family = d->family;
	chg->desired = d;
	while (i < na || j < d->n_chains) {
		const struct npd_chain *ac = i < na ? &a->chains[i] : NULL;
		const struct npd_chain *dc = j < d->n_chains ? &d->chains[j] : NULL;
		int c = !ac ? 1 : !dc ? -1 : strcmp(ac->name, dc->name);

		if (c < 0) {
			npd_xgrow(&chg->del, &cap_d, chg->n_del + 1, sizeof(*chg->del));
			memcpy(chg->del[chg->n_del++], ac->name, NPD_CHAIN_NAMELEN);
			i++;
			continue;
		}
		if (c > 0 || ac->hash != dc->hash) {
			npd_xgrow(&chg->write, &cap_w, chg->n_write + 1, sizeof(*chg->write));
			chg->write[chg->n_write++] = dc;
		}
		if (c == 0)
			i++;
		j++;
	}
	if (a)
		chg->commit = chg->n_write || chg->n_del ||
			      !npd_hooks_equal(a->hooks, a->n_hooks, d->hooks, d->n_hooks);
	else
		chg->commit = chg->n_write || d->n_hooks;
}

struct npd_plan *
npd_differ_plan_dirty(const struct npd_ruleset *applied, const struct npd_ruleset *desired,
		      const char (*dirty)[NPD_SET_NAMELEN], size_t n_dirty, bool all)
{
	struct npd_plan *p = npd_xcalloc(1, sizeof(*p));
	struct npd_map m;
	size_t i;

	npd_map_init(&m);
	for (i = 0; !all && i < n_dirty; i++)
		npd_map_set(&m, dirty[i], p);
	diff_sets(p, applied, desired, all ? NULL : &m);
	diff_table(&p->v4, applied ? &applied->v4 : NULL, &desired->v4);
	diff_table(&p->v6, applied ? &applied->v6 : NULL, &desired->v6);
	npd_map_fini(&m);
	return p;
}

struct npd_plan *
npd_differ_plan(const struct npd_ruleset *applied, const struct npd_ruleset *desired)
{
	return npd_differ_plan_dirty(applied, desired, NULL, 0, true);
}

static struct npd_table_change *
plan_table(struct npd_plan *p, uint8_t family)
{
	return family == AF_INET6 ? &p->v6 : &p->v4;
}

/* The adders below serve the rare objects whose content is unknown: growing by one keeps
 * the plan free of capacity fields. */
void
npd_plan_add_chain_del(struct npd_plan *p, uint8_t family, const char *name)
{
	struct npd_table_change *chg = plan_table(p, family);

	chg->del = npd_xrealloc(chg->del, (chg->n_del + 1) * sizeof(*chg->del));
	snprintf(chg->del[chg->n_del++], NPD_CHAIN_NAMELEN, "%s", name);
	chg->commit = true;
}

void
npd_plan_add_commit(struct npd_plan *p, uint8_t family)
{
	plan_table(p, family)->commit = true;
}

void
npd_plan_add_set_destroy(struct npd_plan *p, const char *name)
{
	struct npd_set_op *op;

	p->set_ops = npd_xrealloc(p->set_ops, (p->n_set_ops + 1) * sizeof(*p->set_ops));
	op = &p->set_ops[p->n_set_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = NPD_SETOP_DESTROY;
	snprintf(op->name, sizeof(op->name), "%s", name);
}

static void
change_fini(struct npd_table_change *c)
{
	free(c->write);
	free(c->del);
}

void
npd_plan_free(struct npd_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_set_ops; i++) {
		free(p->set_ops[i].add);
		free(p->set_ops[i].del);
	}
	free(p->set_ops);
	change_fini(&p->v4);
	change_fini(&p->v6);
	free(p);
}

bool
npd_plan_is_empty(const struct npd_plan *p)
{
	return !p->n_set_ops && !p->v4.commit && !p->v6.commit;
}

bool
npd_plan_can_deny(const struct npd_plan *p)
{
	size_t i, j;

	if (p->v4.commit || p->v6.commit)
		return true;
	for (i = 0; i < p->n_set_ops; i++) {
		const struct npd_set_op *op = &p->set_ops[i];

		/* A created set may replace one of unknown content: take it as a change. */
		if (op->kind != NPD_SETOP_UPDATE || op->n_del)
			return true;
		/* An address joining a local pod group's set is isolated by its policies. */
		if (op->n_add && op->set && op->set->counters)
			return true;
		for (j = 0; j < op->n_add; j++)
			if (op->add[j].nomatch)
				return true;
	}
	return false;
}

bool
npd_plan_resets_chain(const struct npd_plan *p, uint8_t family, const char *chain)
{
	const struct npd_table_change *t = family == AF_INET6 ? &p->v6 : &p->v4;
	size_t i;

	if (!t->commit)
		return false;
	for (i = 0; i < t->n_write; i++)
		if (!strcmp(t->write[i]->name, chain))
			return true;
	for (i = 0; i < t->n_del; i++)
		if (!strcmp(t->del[i], chain))
			return true;
	return false;
}

void
npd_plan_format(const struct npd_plan *p, struct npd_buf *out)
{
	size_t n[3] = {0, 0, 0}, adds = 0, dels = 0, i;
	const struct npd_table_change *t[2] = {&p->v4, &p->v6};

	for (i = 0; i < p->n_set_ops; i++) {
		n[p->set_ops[i].kind]++;
		adds += p->set_ops[i].n_add;
		dels += p->set_ops[i].n_del;
	}
	npd_buf_printf(out, "sets +%zu ~%zu -%zu entries +%zu -%zu", n[NPD_SETOP_CREATE],
		       n[NPD_SETOP_UPDATE], n[NPD_SETOP_DESTROY], adds, dels);
	for (i = 0; i < 2; i++)
		npd_buf_printf(out, " v%c %s write=%zu del=%zu", i ? '6' : '4',
			       t[i]->commit ? "commit" : "nocommit", t[i]->n_write, t[i]->n_del);
}
