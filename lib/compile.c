/* compile.c turns a store into the desired ruleset of one node. Pure: no I/O, no clock,
 * no globals; output order is deterministic (the ruleset is sealed, so chains and sets
 * are sorted by name and set entries by value).
 *
 * Layout, per family, in the filter table:
 *   FORWARD -> NPD-FORWARD: established/related returned at once, then
 *     "-m set --match-set G src -j NPD-E-<h>" for every egress group, then
 *     "-m set --match-set G dst -j NPD-I-<h>" for every ingress group. A group is one list
 *     of policies selecting local pods in one direction (so all of one namespace); its set
 *     G holds the addresses of the local pods that list selects. So a local pod that joins,
 *     leaves or changes groups that exist is set membership only, never a table commit.
 *     Allowed traffic returns and falls through to the rest of FORWARD (the CNI's and
 *     kube-proxy's rules). Only FORWARD is hooked: bridged traffic reaches it through
 *     br_netfilter, routed traffic directly. INPUT and OUTPUT are left alone on purpose:
 *     traffic between a pod and its own node (kubelet probes) is always allowed, as the
 *     Kubernetes documentation says. IPv6 neighbour discovery is returned too. Mid-stream
 *     TCP pickups at a group's other end go to its chain as well, last.
 *   NPD-I-<h>/NPD-E-<h> (h: hash of the group's identity "GI|ns/pol1,pol2"): reject a TCP
 *     segment that is NEW but no SYN, clear our mark bit, jump to the chain of every policy
 *     of the group and return as soon as one set the bit; else log (rate-limited NFLOG)
 *     and reject (TCP with a reset, the rest with ICMP). The rejects match G again, with
 *     ipset's per-entry counters: each pod's entry counts its default-deny packets, where
 *     the dispatch's match (! --update-counters) counts nothing.
 *   NPD-PI-<h>/NPD-PE-<h> (h: hash of "PI|ns/name"): one rule per peer x port setting the
 *     mark bit (compile_policy.c). Names hash identities, never content, so kernel
 *     counters survive edits.
 * Peers become ipsets, each computed once per compile: one hash:ip set per distinct
 * selector (cluster-wide membership), one hash:net set per ipBlock, hash:ip,port sets
 * for named ports resolved at the destination pod. Through an incremental state, a policy
 * chain that no change since the last compile can alter is copied from what that compile
 * emitted (compile_chains.c). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/hash.h"
#include "npd/limits.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "compile_int.h"

#define COMMENT_MAX 255

enum dir { DIR_IN, DIR_EG };

static const char *const dir_word[2] = {"ingress", "egress"};

static enum npd_origin_dir
origin_dir(enum dir d)
{
	return d == DIR_IN ? NPD_ORIGIN_INGRESS : NPD_ORIGIN_EGRESS;
}

void
npd_compile_opts_init(struct npd_compile_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mark = 0x10000;
	o->nflog_group = 100;
	o->log_per_sec = 10;
	o->max_rules_per_policy = 4096;
	o->max_set_members = NPD_LIMIT_SET_MEMBERS;
}

static char *
truncated(const char *s, size_t max)
{
	return npd_xstrndup(s, strnlen(s, max));
}

/* FNV-1a of strings that differ only at the end differs only in a few bits; a final mix
 * (MurmurHash3's fmix64) makes names of sibling pods look unrelated. Names only: the
 * identity, and so the name's stability, is unchanged. */
uint64_t
npd_compile_name_hash(const char *p, size_t n)
{
	uint64_t h = npd_hash64(p, n, NPD_HASH_SEED);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Adds a namespace or object name to an identity, percent-encoding every byte outside
 * the API server's name alphabet: the separators around it ('/', '|', '*') then never
 * occur inside, so distinct names give distinct identities whatever a source let through,
 * and a valid name (the only kind the decoders accept) is written unchanged. */
void
npd_compile_add_name(struct npd_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_')
			npd_buf_addc(b, (char)ch);
		else
			npd_buf_printf(b, "%%%02X", ch);
	}
}

NPD_TESTABLE void
chain_name(char out[NPD_CHAIN_NAMELEN], const char *kind, const char *ns, const char *name,
	   struct npd_buf *tmp)
{
	npd_buf_reset(tmp);
	npd_buf_printf(tmp, "%s|", kind);
	npd_compile_add_name(tmp, ns);
	npd_buf_addc(tmp, '/');
	npd_compile_add_name(tmp, name);
	snprintf(out, NPD_CHAIN_NAMELEN, "NPD-%s-%016" PRIx64, kind,
		 npd_compile_name_hash(tmp->data, tmp->len));
}

bool
npd_compile_pod_is_local(const struct npd_pod *pod, const char *node)
{
	return pod->node && !strcmp(pod->node, node) && npd_pod_is_selectable(pod);
}

/* An address counts for a pod only if the store says the pod owns it: a reused IP follows
 * the newest pod claiming it. */
bool
npd_compile_pod_owns_ip(const struct npd_store *s, const struct npd_pod *pod,
			const struct npd_addr *a)
{
	return npd_store_pod_by_ip(s, a) == pod;
}

/* The group of local pod locals[i] in direction d, made on first use. Its identity names
 * the direction, the namespace and the policies in store order, so pods of one namespace
 * that the same policies select share it, and its names stay while any such pod exists. */
static size_t
join_group(struct npd_cc *c, size_t i, enum dir d)
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
add_local(struct npd_cc *c, const struct npd_pod *pod)
{
	const struct npd_policy *const *pols;
	struct npd_cc_local *lp;
	size_t n_pols, k;
	int d;

	if (!npd_compile_pod_is_local(pod, c->o->node_name))
		return;
	pols = npd_store_policies_in(c->s, pod->ns, &n_pols);
	npd_xgrow(&c->locals, &c->cap_locals, c->n_locals + 1, sizeof(*c->locals));
	lp = &c->locals[c->n_locals++];
	memset(lp, 0, sizeof(*lp));
	lp->pod = pod;
	for (k = 0; k < n_pols; k++) {
		const struct npd_policy *pol = pols[k];

		if (!npd_selector_matches(&pol->pod_sel, &pod->labels))
			continue;
		for (d = DIR_IN; d <= DIR_EG; d++) {
			if (!(d == DIR_IN ? pol->isolates_ingress : pol->isolates_egress))
				continue;
			npd_xgrow(&lp->pols[d], &lp->cap_pols[d], lp->n_pols[d] + 1,
				  sizeof(*lp->pols[d]));
			lp->pols[d][lp->n_pols[d]++] = pol;
		}
	}
	for (d = DIR_IN; d <= DIR_EG; d++)
		lp->group[d] =
		    lp->n_pols[d] ? join_group(c, c->n_locals - 1, (enum dir)d) : SIZE_MAX;
}

/* The local pods in store order (namespace, then name): from the incremental state's
 * index when there is one, else by walking every pod. */
static void
collect_locals(struct npd_cc *c)
{
	const char *const *names;
	size_t n_ns, i, j;

	if (c->st) {
		const struct npd_pod *const *pods = npd_compile_state_locals(c->st, c->s, &n_ns);

		for (i = 0; i < n_ns; i++)
			add_local(c, pods[i]);
		return;
	}
	names = npd_store_ns_names(c->s, &n_ns);
	for (i = 0; i < n_ns; i++) {
		const struct npd_pod *const *pods;
		size_t n_pods;

		pods = npd_store_pods_in(c->s, names[i], &n_pods);
		for (j = 0; j < n_pods; j++)
			add_local(c, pods[j]);
	}
}

char *
npd_compile_comment(const char *s)
{
	return truncated(s, COMMENT_MAX);
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
				set->count_dir = origin_dir((enum dir)g->d);
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
	r.nflog_prefix = truncated(c->tmp.data, NPD_NFLOG_PREFIXLEN - 1);
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
		chain_name(pname, g->d == DIR_IN ? "PI" : "PE", g->pols[i]->ns, g->pols[i]->name,
			   &c->tmp);
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

		chain_name(pname, g->d == DIR_IN ? "PI" : "PE", pol->ns, pol->name, &c->tmp);
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
 * A pod isolated both ways never reaches them, as its first chain rejects every pickup. */
static void
add_group_rules(struct npd_cc *c, struct npd_chain *fwd)
{
	int pickup, d;
	size_t i;

	for (pickup = 0; pickup <= 1; pickup++)
		for (d = DIR_EG; d >= DIR_IN; d--)
			for (i = 0; i < c->n_groups; i++)
				if (c->groups[i].d == d && c->groups[i].set[0])
					add_dispatch(c, fwd, &c->groups[i], pickup);
}

/* IPv6 neighbour solicitations and advertisements between pods on one bridge cross FORWARD
 * (br_netfilter) and conntrack leaves them untracked; rejecting them would make an isolated
 * pod unreachable over IPv6 even where a policy admits the traffic (IPv4's ARP is not IP and
 * never meets these chains). They carry no connection, so they are returned like
 * established traffic; router advertisements and redirects are not (a pod is no router). */
static void
add_neighbour_discovery(struct npd_chain *fwd)
{
	static const struct {
		uint8_t type;
		const char *what;
	} nd[] = {{135, "netpold: neighbour solicitation"},
		  {136, "netpold: neighbour advertisement"}};
	struct npd_rule r;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(nd); i++) {
		memset(&r, 0, sizeof(r));
		r.proto = 58;
		r.has_icmp6_type = true;
		r.icmp6_type = nd[i].type;
		r.target = NPD_T_RETURN;
		r.comment = npd_xstrdup(nd[i].what);
		npd_ruleset_add_rule(fwd, &r);
		npd_rule_fini(&r);
	}
}

static void
compile_family(struct npd_cc *c, uint8_t family)
{
	struct npd_table *t = npd_ruleset_table(c->rs, family);
	struct npd_chain *fwd;
	struct npd_rule r;
	size_t i;

	c->family = family;
	npd_map_fini(&c->chains);
	npd_map_init(&c->chains);
	/* fwd is filled before any other chain is added, so the pointer stays valid. */
	fwd = npd_ruleset_add_chain(t, "NPD-FORWARD");
	npd_ruleset_add_hook(t, "FORWARD", "NPD-FORWARD");
	memset(&r, 0, sizeof(r));
	r.ctstate = NPD_CT_RELATED | NPD_CT_ESTABLISHED;
	/* RETURN, not ACCEPT: netpold only ever vetoes. Established traffic skips our
	 * checks but still meets every other writer's FORWARD rules after our hook. */
	r.target = NPD_T_RETURN;
	r.comment = npd_xstrdup("netpold: established");
	npd_ruleset_add_rule(fwd, &r);
	npd_rule_fini(&r);
	if (family == AF_INET6)
		add_neighbour_discovery(fwd);
	for (i = 0; i < c->n_groups; i++)
		group_set(c, &c->groups[i]);
	add_group_rules(c, fwd);
	for (i = 0; i < c->n_groups; i++)
		if (c->groups[i].set[0])
			emit_group_chain(c, &c->groups[i]);
}

int
npd_compile_run(struct npd_compile_state *st, const struct npd_store *s,
		const struct npd_compile_opts *o, struct npd_diags *d, struct npd_ruleset **out)
{
	struct npd_cc c;
	size_t i;

	if (!o || !o->node_name || !o->mark)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.s = s;
	c.o = o;
	c.d = d;
	c.rs = npd_ruleset_new();
	npd_map_init(&c.sets);
	npd_map_init(&c.chains);
	npd_map_init(&c.reported);
	npd_map_init(&c.group_ids);
	npd_buf_init(&c.id);
	npd_buf_init(&c.tmp);
	npd_buf_init(&c.over_msg);
	npd_buf_init(&c.over_path);
	if (st)
		npd_compile_chains_begin(&c);
	collect_locals(&c);
	compile_family(&c, AF_INET);
	compile_family(&c, AF_INET6);
	npd_compile_drop_over(&c);
	npd_ruleset_seal(c.rs);
	npd_compile_drop_unused_sets(&c);
	if (st)
		npd_compile_chains_keep(&c);
	*out = c.rs;
	for (i = 0; i < c.n_locals; i++) {
		free(c.locals[i].pols[DIR_IN]);
		free(c.locals[i].pols[DIR_EG]);
	}
	free(c.locals);
	for (i = 0; i < c.n_groups; i++) {
		free(c.groups[i].id);
		free(c.groups[i].members);
	}
	free(c.groups);
	npd_map_fini(&c.group_ids);
	npd_buf_fini(&c.over_path);
	npd_buf_fini(&c.over_msg);
	npd_buf_fini(&c.tmp);
	npd_buf_fini(&c.id);
	npd_map_fini(&c.reported);
	npd_map_fini(&c.chains);
	npd_map_fini(&c.sets);
	return 0;
}

int
npd_compile(const struct npd_store *s, const struct npd_compile_opts *o, struct npd_diags *d,
	    struct npd_ruleset **out)
{
	return npd_compile_run(NULL, s, o, d, out);
}
