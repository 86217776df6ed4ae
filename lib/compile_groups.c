/* compile_groups.c: how local pods are enforced (see compile.c for the whole layout). A
 * group is one list of policies selecting local pods in one direction, so all of one
 * namespace; pods with the same list share its chain, which tries those policies' chains,
 * and its hash:ip set of their addresses, which NPD-FORWARD matches to send their packets
 * there. A pod that joins, leaves or changes groups that exist is therefore set membership
 * only; the table changes only when a group appears or goes. The set is created with
 * ipset's counters and the chain's rejects match it again, so each entry counts its pod's
 * denied packets (netpold_pod_denied_packets_total) while the dispatch counts nothing.
 * Pure: no I/O, no clock, no globals. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "compile_int.h"

enum dir { DIR_IN, DIR_EG };

static const char *const dir_word[2] = {"ingress", "egress"};

/* The group of local pod locals[i] in direction d, made on first use. Its identity names
 * the direction, the namespace and the policies in store order, so pods of one namespace
 * that the same policies select share it, and its names stay while any such pod exists. */
size_t
npd_compile_join_group(struct npd_cc *c, size_t i, int d)
{
	const struct npd_cc_local *lp = &c->locals[i];
	struct npd_cc_group *g;
	size_t k, gi;
	void *v;

	npd_buf_reset(&c->id);
	npd_buf_adds(&c->id, d == DIR_IN ? "GI|" : "GE|");
	npd_compile_add_name(&c->id, lp->pod->ns);
	for (k = 0; k < lp->n_pols[d]; k++) {
		npd_buf_addc(&c->id, k ? ',' : '/');
		npd_compile_add_name(&c->id, lp->pols[d][k]->name);
	}
	v = npd_map_get(&c->group_ids, c->id.data);
	if (v) {
		gi = (size_t)(uintptr_t)v - 1;
	} else {
		npd_xgrow(&c->groups, &c->cap_groups, c->n_groups + 1, sizeof(*c->groups));
		gi = c->n_groups++;
		g = &c->groups[gi];
		memset(g, 0, sizeof(*g));
		g->d = d;
		g->pols = lp->pols[d];
		g->n_pols = lp->n_pols[d];
		g->id = npd_xstrdup(c->id.data);
		snprintf(g->chain, sizeof(g->chain), "NPD-%s-%016" PRIx64, d == DIR_IN ? "I" : "E",
			 npd_compile_name_hash(c->id.data, c->id.len));
		npd_map_set(&c->group_ids, c->id.data, (void *)(uintptr_t)(gi + 1));
	}
	g = &c->groups[gi];
	npd_xgrow(&g->members, &g->cap_members, g->n_members + 1, sizeof(*g->members));
	g->members[g->n_members++] = i;
	return gi;
}

static void
set_comment(struct npd_rule *r, struct npd_buf *b)
{
	free(r->comment);
	r->comment = npd_compile_comment(b->data);
}

/* A TCP segment that conntrack sees as NEW although it opens nothing: with the kernel's
 * default nf_conntrack_tcp_loose=1 it would start an entry with its sender as the initiator,
 * which a connection cut by a deny (its entry deleted) or an entry lost otherwise cannot be
 * attributed to; the later segments of the other side would then pass as replies. */
static void
set_tcp_pickup(struct npd_rule *r)
{
	r->proto = 6;
	r->tcp_not_syn = true;
	r->ctstate = NPD_CT_NEW;
}

/* Appends "NS pods selected for DIR by P1, P2" for group g to the scratch text. */
static void
describe_group(struct npd_cc *c, const struct npd_cc_group *g)
{
	size_t k;

	npd_buf_printf(&c->tmp, "%s pods selected for %s by ", g->pols[0]->ns, dir_word[g->d]);
	for (k = 0; k < g->n_pols; k++)
		npd_buf_printf(&c->tmp, "%s%s", k ? ", " : "", g->pols[k]->name);
}

/* Makes r match the group's set at the group's own end of the packet (ingress: the
 * destination, egress: the source) or at the other end; counting for the matched entry
 * unless no_counters. */
static void
match_group(struct npd_rule *r, const struct npd_cc_group *g, bool other_end, bool no_counters)
{
	bool dst = (g->d == DIR_IN) != other_end;

	r->n_sets = 1;
	snprintf(r->sets[0].name, sizeof(r->sets[0].name), "%s", g->set);
	r->sets[0].dims = 1;
	r->sets[0].dirs = dst ? NPD_SETDIR_DST(0) : 0;
	r->sets[0].no_counters = no_counters;
}

/* The set of group g in c->family, filled with its members' addresses there; g->set stays
 * "" when no member has one (then the group has no rules in the family). Its entries count
 * the group chain's rejects per pod; the differ compares it entry by entry every time,
 * since the state keeps only the sets peers become. */
static void
group_set(struct npd_cc *c, struct npd_cc_group *g)
{
	struct npd_set *set = NULL;
	struct npd_set_entry e;
	size_t m, j;

	g->set[0] = '\0';
	for (m = 0; m < g->n_members; m++) {
		const struct npd_pod *pod = c->locals[g->members[m]].pod;

		for (j = 0; j < pod->n_ips; j++) {
			const struct npd_addr *a = &pod->ips[j];

			if (a->family != c->family || !npd_compile_pod_owns_ip(c->s, pod, a))
				continue;
			if (!set) {
				snprintf(g->set, sizeof(g->set), "npd-%016" PRIx64 "-%c",
					 npd_compile_name_hash(g->id, strlen(g->id)),
					 c->family == AF_INET6 ? '6' : '4');
				npd_buf_reset(&c->tmp);
				npd_buf_adds(&c->tmp, "local ");
				describe_group(c, g);
				set = npd_ruleset_add_set(c->rs, g->set, NPD_SET_HASH_IP, c->family,
							  c->tmp.data);
				set->counters = true;
				set->count_dir =
				    g->d == DIR_IN ? NPD_ORIGIN_INGRESS : NPD_ORIGIN_EGRESS;
				if (c->st)
					npd_compile_state_dirty_name(c->st, g->set);
			}
			memset(&e, 0, sizeof(e));
			e.addr = *a;
			npd_ruleset_add_entry(set, &e);
		}
	}
}

/* The rate-limited NFLOG rule of a group chain. Its prefix names the direction and the
 * namespace; the drop log names the pods by the packet's addresses. */
static void
add_drop_log(struct npd_cc *c, struct npd_chain *ch, const struct npd_cc_group *g, bool pickup)
{
	struct npd_rule r;

	if (!c->o->log_per_sec)
		return;
	memset(&r, 0, sizeof(r));
	if (pickup)
		set_tcp_pickup(&r);
	r.limit_per_sec = c->o->log_per_sec;
	r.limit_burst = 2 * c->o->log_per_sec;
	r.target = NPD_T_NFLOG;
	r.nflog_group = c->o->nflog_group;
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "NPD DROP %c %s", g->d == DIR_IN ? 'I' : 'E', g->pols[0]->ns);
	r.nflog_prefix = npd_xstrndup(c->tmp.data, strnlen(c->tmp.data, NPD_NFLOG_PREFIXLEN - 1));
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

/* What a reject of a group chain's deny matches. */
enum deny_kind {
	DENY_PICKUP,	   /* a mid-stream TCP segment at the group's own end */
	DENY_PICKUP_OTHER, /* one at the other end (its other direction's pickups) */
	DENY_TCP,	   /* a TCP connection the policies did not admit */
	DENY_OTHER,	   /* anything else they did not admit */
	DENY_UNMATCHED,	   /* what reaches the end without the set's match: fail closed */
};

/* A reject of the group's deny. TCP gets a reset, so the local socket dies at once instead
 * of retransmitting into the deny and resuming silently if the policy is reverted;
 * anything else an ICMP port unreachable. All but the last match the group's set, whose
 * entry then counts the packet for its pod. */
static void
add_deny(struct npd_cc *c, struct npd_chain *ch, const struct npd_cc_group *g, enum deny_kind k)
{
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	if (k == DENY_PICKUP || k == DENY_PICKUP_OTHER)
		set_tcp_pickup(&r);
	else if (k == DENY_TCP)
		r.proto = 6;
	if (k != DENY_UNMATCHED)
		match_group(&r, g, k == DENY_PICKUP_OTHER, false);
	r.target = NPD_T_REJECT;
	r.reject_with = r.proto == 6 ? NPD_REJECT_TCP_RESET : NPD_REJECT_PORT_UNREACH;
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "netpold: %s: ",
		       k == DENY_PICKUP || k == DENY_PICKUP_OTHER ? "mid-stream TCP"
		       : k == DENY_UNMATCHED			  ? "default deny (no set match)"
								  : "default deny");
	describe_group(c, g);
	set_comment(&r, &c->tmp);
	r.origin_rule = NPD_ORIGIN_RULE_NONE;
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

/* The chain of group g: pickups rejected first (a connection has exactly one initiator),
 * then the mark cleared and every policy chain tried, returning as soon as one admitted;
 * what none admits is logged and rejected. */
static void
emit_group_chain(struct npd_cc *c, const struct npd_cc_group *g)
{
	struct npd_table *t = npd_ruleset_table(c->rs, c->family);
	char pname[NPD_CHAIN_NAMELEN];
	struct npd_chain *ch;
	struct npd_rule r;
	size_t i;

	/* The policy chains first, so ch stays valid while it is filled (a chain moves when
	 * another is added); the table is sorted by name when sealed. */
	for (i = 0; i < g->n_pols; i++) {
		npd_compile_policy_chain_name(pname, g->pols[i], g->d, &c->tmp);
		npd_compile_policy_chain(c, g->pols[i], g->d, pname);
	}
	ch = npd_ruleset_add_chain(t, g->chain);
	add_drop_log(c, ch, g, true);
	add_deny(c, ch, g, DENY_PICKUP);
	add_deny(c, ch, g, DENY_PICKUP_OTHER);
	memset(&r, 0, sizeof(r));
	r.target = NPD_T_MARK;
	r.set_mark = 0;
	r.set_mask = c->o->mark;
	npd_ruleset_add_rule(ch, &r);
	for (i = 0; i < g->n_pols; i++) {
		const struct npd_policy *pol = g->pols[i];

		npd_compile_policy_chain_name(pname, pol, g->d, &c->tmp);
		memset(&r, 0, sizeof(r));
		r.target = NPD_T_JUMP;
		memcpy(r.jump, pname, sizeof(r.jump));
		npd_buf_reset(&c->tmp);
		npd_buf_printf(&c->tmp, "policy %s/%s", pol->ns, pol->name);
		set_comment(&r, &c->tmp);
		npd_ruleset_add_rule(ch, &r);
		npd_rule_fini(&r);
		memset(&r, 0, sizeof(r));
		r.has_mark = true;
		r.mark_value = c->o->mark;
		r.mark_mask = c->o->mark;
		r.target = NPD_T_RETURN;
		npd_ruleset_add_rule(ch, &r);
	}
	add_drop_log(c, ch, g, false);
	add_deny(c, ch, g, DENY_TCP);
	add_deny(c, ch, g, DENY_OTHER);
	add_deny(c, ch, g, DENY_UNMATCHED);
}

/* The NPD-FORWARD rule sending group g's packets to its chain: those of its own end, or
 * (pickup) the mid-stream TCP segments at its other end. The set match does not count:
 * only the rejects count for a pod. */
static void
add_dispatch(struct npd_cc *c, struct npd_chain *fwd, const struct npd_cc_group *g, bool pickup)
{
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	if (pickup)
		set_tcp_pickup(&r);
	match_group(&r, g, pickup, true);
	r.target = NPD_T_JUMP;
	memcpy(r.jump, g->chain, sizeof(r.jump));
	npd_buf_reset(&c->tmp);
	if (pickup)
		npd_buf_printf(&c->tmp, "mid-stream TCP %s ", g->d == DIR_IN ? "from" : "to");
	describe_group(c, g);
	set_comment(&r, &c->tmp);
	npd_ruleset_add_rule(fwd, &r);
	npd_rule_fini(&r);
}

/* The group rules of NPD-FORWARD: every egress group, then every ingress group (a packet
 * between two local pods is checked at both), then the pickups of the other direction.
 * Those serve pods isolated one way only: a deny on one side must not resume as replies.
 * A pod isolated both ways never reaches them, as its first chain rejects every pickup.
 * Then the group chains. */
void
npd_compile_groups(struct npd_cc *c, struct npd_chain *fwd)
{
	int pickup, d;
	size_t i;

	for (i = 0; i < c->n_groups; i++)
		group_set(c, &c->groups[i]);
	for (pickup = 0; pickup <= 1; pickup++)
		for (d = DIR_EG; d >= DIR_IN; d--)
			for (i = 0; i < c->n_groups; i++)
				if (c->groups[i].d == d && c->groups[i].set[0])
					add_dispatch(c, fwd, &c->groups[i], pickup);
	for (i = 0; i < c->n_groups; i++)
		if (c->groups[i].set[0])
			emit_group_chain(c, &c->groups[i]);
}
