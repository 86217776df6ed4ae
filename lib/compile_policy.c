/* compile_policy.c: the chain of one policy and direction, NPD-PI-<h>/NPD-PE-<h>: one rule
 * per peer x port setting the mark bit, matching the sets the peers and named ports become
 * (compile_sets.c). Through an incremental state a chain the last compile built for an
 * unchanged policy is copied instead (compile_chains.c keeps it), and the sets its rules
 * match are made again from what building recorded, in the same order and with the same
 * comments, members and bound checks, so the ruleset is the one building gives. Pure, like
 * compile.c. */
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "compile_int.h"

static const char *
dir_word(int d)
{
	return npd_origin_dir_name(d ? NPD_ORIGIN_EGRESS : NPD_ORIGIN_INGRESS);
}

/* Notes set, which the rule of path (ri, what[i]) matches, against the bound and, while a
 * chain is built through a state, records how it was made. first: the first set of its
 * rule. */
static void
use_set(struct npd_cc *c, struct npd_rule *r, const struct npd_set *set, int d, size_t ri,
	const char *what, size_t i, bool first, uint8_t dims, uint8_t dirs)
{
	struct npd_set_match *m = &r->sets[r->n_sets++];

	if (c->st) {
		struct npd_cc_setref *ref;

		npd_xgrow(&c->refs, &c->cap_refs, c->n_refs + 1, sizeof(*c->refs));
		ref = &c->refs[c->n_refs++];
		memset(ref, 0, sizeof(*ref));
		/* The set functions leave its identity in c->id and this policy's comment for
		 * it in c->tmp. */
		ref->id = npd_xstrdup(c->id.data);
		ref->comment = npd_xstrdup(c->tmp.data);
		memcpy(ref->name, set->name, sizeof(ref->name));
		ref->type = set->type;
		ref->first = first;
		ref->what = what;
		ref->ri = ri;
		ref->i = i;
		if (set->type == NPD_SET_HASH_NET && set->n_entries) {
			ref->e = npd_xmalloc(set->n_entries * sizeof(*ref->e));
			memcpy(ref->e, set->entries, set->n_entries * sizeof(*ref->e));
			ref->n = set->n_entries;
		}
	}
	npd_compile_note_set(c, set, dir_word(d), ri, what, i);
	memcpy(m->name, set->name, sizeof(m->name));
	m->dims = dims;
	m->dirs = dirs;
	m->negate = false;
}

/* Emits the rule for one peer x port of rule ri; a combination that can match nothing
 * emits nothing. */
static void
emit_peer_port(struct npd_cc *c, struct npd_chain *ch, const struct npd_policy *pol, int d,
	       size_t ri, size_t pi, const struct npd_peer *peer, size_t qi,
	       const struct npd_port *port)
{
	uint8_t peer_dirs = d ? NPD_SETDIR_DST(0) : 0;
	const char *peer_word = d ? "to" : "from";
	const struct npd_set *set;
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	if (peer && peer->kind == NPD_PEER_IPBLOCK && peer->cidr.addr.family != c->family)
		return;
	if (port && port->name && d) {
		/* The name resolves at the destination, which must then be a pod. */
		set = npd_compile_egress_port_set(c, pol, peer, port);
		use_set(c, &r, set, d, ri, "ports", qi, true, 2,
			NPD_SETDIR_DST(0) | NPD_SETDIR_DST(1));
	} else {
		if (peer) {
			set = peer->kind == NPD_PEER_IPBLOCK
				  ? npd_compile_ipblock_set(c, peer)
				  : npd_compile_selector_set(c, pol, peer);
			use_set(c, &r, set, d, ri, peer_word, pi, true, 1, peer_dirs);
		}
		if (port && port->name) {
			set = npd_compile_ingress_port_set(c, pol, port);
			use_set(c, &r, set, d, ri, "ports", qi, !peer, 2,
				NPD_SETDIR_DST(0) | NPD_SETDIR_DST(1));
		} else if (port) {
			r.proto = (uint8_t)port->proto;
			if (port->has_port) {
				r.dport_lo = port->port;
				r.dport_hi =
				    port->end_port > port->port ? port->end_port : port->port;
			}
		}
	}
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "%s/%s %s[%zu]", pol->ns, pol->name, dir_word(d), ri);
	if (peer)
		npd_buf_printf(&c->tmp, " %s[%zu]", peer_word, pi);
	if (port)
		npd_buf_printf(&c->tmp, " ports[%zu]", qi);
	r.comment = npd_compile_comment(c->tmp.data);
	r.target = NPD_T_MARK;
	r.set_mark = c->o->mark;
	r.set_mask = c->o->mark;
	r.origin_rule = (int32_t)ri;
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

/* The sets of a copied chain, made as building made them: the loops of building stop
 * before the next rule once a set is over the bound, so replaying stops there too. */
static void
replay_sets(struct npd_cc *c, const struct npd_cc_kept *kept, int d)
{
	size_t k;

	for (k = 0; k < kept->n_refs; k++) {
		const struct npd_cc_setref *ref = &kept->refs[k];

		if (ref->first && c->over)
			break;
		npd_compile_note_set(c, npd_compile_kept_set(c, ref), dir_word(d), ref->ri,
				     ref->what, ref->i);
	}
}

void
npd_compile_policy_chain(struct npd_cc *c, const struct npd_policy *pol, int d, const char *name)
{
	struct npd_table *t = npd_ruleset_table(c->rs, c->family);
	const struct npd_policy_rule *rules = d ? pol->egress : pol->ingress;
	size_t n = d ? pol->n_egress : pol->n_ingress;
	struct npd_cc_kept *kept;
	size_t ri, pi, qi;
	struct npd_chain *ch;

	if (npd_map_get(&c->chains, name))
		return;
	npd_map_set(&c->chains, name, (void *)1);
	kept = c->st ? npd_compile_chains_policy(c, pol, d) : NULL;
	if (c->st)
		npd_compile_chains_emitted(c, pol, d, name, kept != NULL);
	/* ch stays valid: filling it adds sets and rules, never another chain. */
	if (kept) {
		ch = npd_ruleset_add_chain_share(t, &kept->ch);
	} else {
		ch = npd_ruleset_add_chain(t, name);
		npd_chain_set_origin(ch, NPD_ORIGIN_POLICY,
				     d ? NPD_ORIGIN_EGRESS : NPD_ORIGIN_INGRESS, pol->ns,
				     pol->name);
	}
	/* An invalid policy isolates and allows nothing: its chain stays empty. */
	if (pol->invalid)
		return;
	if (npd_compile_rules_over(c, pol, rules, n))
		return;
	if (kept) {
		replay_sets(c, kept, d);
		npd_compile_end_chain(c, pol, ch);
		return;
	}
	for (ri = 0; ri < n && !c->over; ri++) {
		const struct npd_policy_rule *rule = &rules[ri];
		size_t np = rule->n_peers ? rule->n_peers : 1;
		size_t nq = rule->n_ports ? rule->n_ports : 1;

		for (pi = 0; pi < np && !c->over; pi++)
			for (qi = 0; qi < nq && !c->over; qi++)
				emit_peer_port(c, ch, pol, d, ri, pi,
					       rule->n_peers ? &rule->peers[pi] : NULL, qi,
					       rule->n_ports ? &rule->ports[qi] : NULL);
	}
	npd_compile_end_chain(c, pol, ch);
}
