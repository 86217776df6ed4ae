/* compile_limit.c: the bounds the compiler puts on one policy: the iptables rules one
 * direction compiles to (policy_rules) and the members of each set its peers and named
 * ports become (set_members). A policy over either fails closed: it isolates the pods it
 * selects and admits nothing, in both families (its chains are emptied, also in the family
 * compiled before the crossing was seen), and the sets only it referenced are not emitted,
 * so a set over the bound never reaches the kernel. The member counts are those the sets
 * were filled with (from the incremental state or the one walk of a full compile): nothing
 * here walks the store. Each such policy is reported once per compile with a diagnostic
 * whose text does not change while it stays over (no count in it), so the agent logs and
 * counts it once per crossing. Pure, like compile.c. */
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "compile_int.h"

/* The key of policy ns/name in c->reported, built in c->tmp. */
static const char *
policy_key(struct npd_cc *c, const char *ns, const char *name)
{
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "%s/%s", ns, name);
	return c->tmp.data;
}

/* True when pol was not reported yet (it is now marked). */
static bool
first_report(struct npd_cc *c, const struct npd_policy *pol)
{
	const char *key = policy_key(c, pol->ns, pol->name);

	if (npd_map_get(&c->reported, key))
		return false;
	npd_map_set(&c->reported, key, (void *)1);
	return true;
}

bool
npd_compile_is_reported(struct npd_cc *c, const char *ns, const char *name)
{
	return c->reported.len && npd_map_get(&c->reported, policy_key(c, ns, name));
}

bool
npd_compile_rules_over(struct npd_cc *c, const struct npd_policy *pol,
		       const struct npd_policy_rule *rules, size_t n)
{
	size_t i, total = 0;

	for (i = 0; i < n; i++)
		total += (rules[i].n_peers ? rules[i].n_peers : 1) *
			 (rules[i].n_ports ? rules[i].n_ports : 1);
	if (total <= c->o->max_rules_per_policy)
		return false;
	if (first_report(c, pol)) {
		npd_diags_add(c->d, NPD_DIAG_LIMIT, "NetworkPolicy", pol->ns, pol->name, "spec",
			      NULL, 0,
			      "policy needs %zu rules, more than the limit of %u: it isolates the "
			      "pods it selects but allows nothing",
			      total, c->o->max_rules_per_policy);
		npd_diags_set_limit(c->d, "policy_rules");
	}
	return true;
}

void
npd_compile_note_set(struct npd_cc *c, const struct npd_set *set, const char *dir, size_t ri,
		     const char *what, size_t i)
{
	if (c->over || set->n_entries <= c->o->max_set_members)
		return;
	c->over = true;
	npd_buf_reset(&c->over_msg);
	npd_buf_printf(&c->over_msg, "%s (%s)", set->name, set->comment ? set->comment : "");
	npd_buf_reset(&c->over_path);
	npd_buf_printf(&c->over_path, "spec.%s[%zu]", dir, ri);
	if (what)
		npd_buf_printf(&c->over_path, ".%s[%zu]", what, i);
}

void
npd_compile_end_chain(struct npd_cc *c, const struct npd_policy *pol, struct npd_chain *ch)
{
	if (!c->over)
		return;
	c->over = false;
	npd_chain_clear_rules(ch);
	if (!first_report(c, pol))
		return;
	npd_diags_add(c->d, NPD_DIAG_LIMIT, "NetworkPolicy", pol->ns, pol->name, c->over_path.data,
		      NULL, 0,
		      "set %s needs more than the limit of %u members: the policy isolates the "
		      "pods it selects but allows nothing",
		      c->over_msg.data, c->o->max_set_members);
	npd_diags_set_limit(c->d, "set_members");
}

static void
drop_table(struct npd_cc *c, struct npd_table *t)
{
	size_t i;

	for (i = 0; i < t->n_chains; i++) {
		struct npd_chain *ch = &t->chains[i];

		if (ch->origin.kind != NPD_ORIGIN_POLICY || !ch->n_rules)
			continue;
		if (npd_map_get(&c->reported, policy_key(c, ch->origin.ns, ch->origin.name)))
			npd_chain_clear_rules(ch);
	}
}

void
npd_compile_drop_over(struct npd_cc *c)
{
	if (!c->reported.len)
		return;
	drop_table(c, &c->rs->v4);
	drop_table(c, &c->rs->v6);
}

static void
mark_used(struct npd_map *used, const struct npd_table *t)
{
	size_t i, j, k;

	for (i = 0; i < t->n_chains; i++)
		for (j = 0; j < t->chains[i].n_rules; j++)
			for (k = 0; k < t->chains[i].rules[j].n_sets; k++)
				npd_map_set(used, t->chains[i].rules[j].sets[k].name, (void *)1);
}

void
npd_compile_drop_unused_sets(struct npd_cc *c)
{
	struct npd_map used;
	size_t i;

	if (!c->reported.len)
		return;
	npd_map_init(&used);
	mark_used(&used, &c->rs->v4);
	mark_used(&used, &c->rs->v6);
	/* Backwards: a removal moves only the sets after it. */
	for (i = c->rs->n_sets; i-- > 0;)
		if (!npd_map_get(&used, c->rs->sets[i].name))
			npd_ruleset_del_set(c->rs, c->rs->sets[i].name);
	npd_map_fini(&used);
}
