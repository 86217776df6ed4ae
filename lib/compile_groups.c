/* compile_groups.c: how local pods are enforced (see compile.c for the whole layout). A
 * group is one list of policies selecting local pods in one direction, so all of one
 * namespace; pods with the same list share its chain, which tries those policies' chains,
 * and its hash:ip set of their addresses, which one of the direction's dispatch chains
 * matches to send their packets there. A pod that joins, leaves or changes groups that
 * exist is therefore set membership only; the table changes only when a group appears or
 * goes, and then in one dispatch chain. What no policy admits goes to a tail shared by the
 * direction's groups, as do mid-stream TCP segments; the tails' rejects match one more
 * set, of the direction's isolated local pods, created with ipset's counters, so each
 * entry counts its pod's denied packets (netpold_pod_denied_packets_total) while the
 * jumps count nothing. Pure: no I/O, no clock, no globals. */
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
#include "compile_state_int.h"

enum dir { DIR_IN, DIR_EG };

static const char *const dir_word[2] = {"ingress", "egress"};

/* Appends "NS pods selected for DIR by P1, P2" for group g to the scratch text. */
static void
describe_group(struct npd_cc *c, const struct npd_cc_group *g)
{
	size_t k;

	npd_buf_printf(&c->tmp, "%s pods selected for %s by ", g->pols[0]->ns, dir_word[g->d]);
	for (k = 0; k < g->n_pols; k++)
		npd_buf_printf(&c->tmp, "%s%s", k ? ", " : "", g->pols[k]->name);
}

/* What a group's identity alone decides: the hash its names carry, the text saying what it
 * is, the names of its policies' chains. Kept between compiles through a state (they cost
 * more than the rest of the group: a compile makes every group anew), keyed by identity. */
struct npd_cc_gname {
	uint64_t hash;
	char chain[NPD_CHAIN_NAMELEN];
	char set[2][NPD_SET_NAMELEN]; /* per family: 0 IPv4, 1 IPv6 */
	char *what;
	char (*pol_chain)[NPD_CHAIN_NAMELEN];
	char **jump_comment; /* per policy: "policy NS/NAME" */
	size_t n_pols;
	uint64_t used;		/* epoch of the last compile that used it */
	struct npd_chain built; /* the group's chain, sealed, once has_built (both families') */
	bool has_built;
};

void
npd_compile_gname_free(void *p)
{
	struct npd_cc_gname *n = p;

	if (!n)
		return;
	for (size_t k = 0; k < n->n_pols; k++)
		free(n->jump_comment[k]);
	free(n->jump_comment);
	if (n->has_built)
		npd_chain_fini(&n->built);
	free(n->what);
	free(n->pol_chain);
	free(n);
}

/* Fills g's names, chain, what and pol_chain (g->id set): from the state's copy when it
 * has one, else made (and given to the state, which then owns them; without a state g
 * does). */
static void
group_names(struct npd_cc *c, struct npd_cc_group *g)
{
	struct npd_cc_gname *n = c->st ? npd_map_get(&c->st->gnames, g->id) : NULL;
	size_t k;

	if (!n) {
		n = npd_xcalloc(1, sizeof(*n));
		n->hash = npd_compile_name_hash(g->id, strlen(g->id));
		snprintf(n->chain, sizeof(n->chain), "NPD-%s-%016" PRIx64,
			 g->d == DIR_IN ? "I" : "E", n->hash);
		for (k = 0; k < 2; k++)
			snprintf(n->set[k], sizeof(n->set[k]), "npd-%016" PRIx64 "-%c", n->hash,
				 k ? '6' : '4');
		npd_buf_reset(&c->tmp);
		describe_group(c, g);
		n->what = npd_xstrdup(c->tmp.data);
		n->n_pols = g->n_pols;
		n->pol_chain = npd_xcalloc(g->n_pols, sizeof(*n->pol_chain));
		n->jump_comment = npd_xcalloc(g->n_pols, sizeof(*n->jump_comment));
		for (k = 0; k < g->n_pols; k++) {
			npd_compile_policy_chain_name(n->pol_chain[k], g->pols[k], g->d, &c->tmp);
			npd_buf_reset(&c->tmp);
			npd_buf_printf(&c->tmp, "policy %s/%s", g->pols[k]->ns, g->pols[k]->name);
			n->jump_comment[k] = npd_compile_comment(c->tmp.data);
		}
		if (c->st)
			npd_map_set(&c->st->gnames, g->id, n);
	}
	if (c->st)
		n->used = c->st->epoch;
	else
		g->own_names = n;
	g->names = n;
	memcpy(g->chain, n->chain, sizeof(g->chain));
	g->what = n->what;
	g->pol_chain = (const char(*)[NPD_CHAIN_NAMELEN])n->pol_chain;
}

uint64_t
npd_compile_gname_used(const void *p)
{
	return ((const struct npd_cc_gname *)p)->used;
}

/* A group's identity names the direction, the namespace and the policies in store order,
 * so pods of one namespace that the same policies select share it. */
void
npd_compile_group_id(struct npd_buf *b, const struct npd_cc_local *lp, int d)
{
	size_t k;

	npd_buf_reset(b);
	npd_buf_adds(b, d == DIR_IN ? "GI|" : "GE|");
	npd_compile_add_name(b, lp->pod->ns);
	for (k = 0; k < lp->n_pols[d]; k++) {
		npd_buf_addc(b, k ? ',' : '/');
		npd_compile_add_name(b, lp->pols[d][k]->name);
	}
}

/* The group of local pod locals[i] in direction d (its identity kept with the pod, else
 * made now), made on first use; its names stay while any pod of the group exists. */
size_t
npd_compile_join_group(struct npd_cc *c, size_t i, int d)
{
	const struct npd_cc_local *lp = &c->locals[i];
	struct npd_cc_group *g;
	const char *id = lp->gid[d];
	size_t gi;
	void *v;

	if (!id) {
		npd_compile_group_id(&c->id, lp, d);
		id = c->id.data;
	}
	v = npd_map_get(&c->group_ids, id);
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
		g->id = npd_xstrdup(id);
		group_names(c, g);
		npd_map_set(&c->group_ids, g->id, (void *)(uintptr_t)(gi + 1));
	}
	g = &c->groups[gi];
	npd_xgrow(&g->members, &g->cap_members, g->n_members + 1, sizeof(*g->members));
	g->members[g->n_members++] = i;
	return gi;
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

/* Makes r match set name (one address) at the packet's destination (dst) or source;
 * counting for the matched entry unless no_counters. */
static void
match_set(struct npd_rule *r, const char *name, bool dst, bool no_counters)
{
	size_t n = strnlen(name, NPD_SET_NAMELEN - 1);

	r->n_sets = 1;
	memcpy(r->sets[0].name, name, n);
	r->sets[0].name[n] = '\0';
	r->sets[0].dims = 1;
	r->sets[0].dirs = dst ? NPD_SETDIR_DST(0) : 0;
	r->sets[0].no_counters = no_counters;
}

/* True when address j of local pod lp is the pod's (a reused address follows the newest
 * pod), as add_local found. */
static bool
owns(const struct npd_cc *c, const struct npd_cc_local *lp, size_t j)
{
	return j < 32 ? (lp->owned >> j) & 1
		      : npd_compile_pod_owns_ip(c->s, lp->pod, &lp->pod->ips[j]);
}

/* Adds to set (made by make_set on the first address, then *set) the addresses in
 * c->family of group g's members. */
static void
add_members(struct npd_cc *c, const struct npd_cc_group *g, struct npd_set **set,
	    struct npd_set *(*make_set)(struct npd_cc *c, void *arg), void *arg)
{
	struct npd_set_entry e;
	size_t m, j;

	for (m = 0; m < g->n_members; m++) {
		const struct npd_cc_local *lp = &c->locals[g->members[m]];

		for (j = 0; j < lp->pod->n_ips; j++) {
			if (lp->pod->ips[j].family != c->family || !owns(c, lp, j))
				continue;
			if (!*set)
				*set = make_set(c, arg);
			memset(&e, 0, sizeof(e));
			e.addr = lp->pod->ips[j];
			npd_ruleset_add_entry(*set, &e);
		}
	}
}

/* Adds the set name of local pods in c->family, hash:ip; counted: with per-entry counters
 * for direction d. The differ compares these sets entry by entry every time, since the
 * state keeps only the sets peers become. */
static struct npd_set *
new_local_set(struct npd_cc *c, const char *comment, bool counted, int d,
	      const char name[NPD_SET_NAMELEN])
{
	struct npd_set *set;

	set = npd_ruleset_add_set(c->rs, name, NPD_SET_HASH_IP, c->family, comment);
	set->counters = counted;
	set->count_dir = d == DIR_IN ? NPD_ORIGIN_INGRESS : NPD_ORIGIN_EGRESS;
	if (c->st)
		npd_compile_state_dirty_name(c->st, name);
	return set;
}

static struct npd_set *
make_group_set(struct npd_cc *c, void *arg)
{
	struct npd_cc_group *g = arg;

	npd_buf_reset(&c->tmp);
	npd_buf_adds(&c->tmp, "local ");
	npd_buf_adds(&c->tmp, g->what);
	memcpy(g->set, g->names->set[c->family == AF_INET6], sizeof(g->set));
	return new_local_set(c, c->tmp.data, false, g->d, g->set);
}

/* The counted set of the local pods isolated for one direction. */
struct iso {
	int d;
	uint64_t hash;
	char name[NPD_SET_NAMELEN];
};

static struct npd_set *
make_iso_set(struct npd_cc *c, void *arg)
{
	struct iso *iso = arg;

	snprintf(iso->name, sizeof(iso->name), "npd-%016" PRIx64 "-%c", iso->hash,
		 c->family == AF_INET6 ? '6' : '4');
	return new_local_set(c,
			     iso->d == DIR_IN ? "local pods isolated for ingress"
					      : "local pods isolated for egress",
			     true, iso->d, iso->name);
}

/* The rate-limited NFLOG rule of a shared tail; the drop log names the pods by the
 * packet's addresses. */
static void
add_drop_log(struct npd_cc *c, struct npd_chain *ch, int d)
{
	struct npd_rule r;

	if (!c->o->log_per_sec)
		return;
	memset(&r, 0, sizeof(r));
	r.limit_per_sec = c->o->log_per_sec;
	r.limit_burst = 2 * c->o->log_per_sec;
	r.target = NPD_T_NFLOG;
	r.nflog_group = c->o->nflog_group;
	r.nflog_prefix = npd_xstrdup(d == DIR_IN ? "NPD DROP I" : "NPD DROP E");
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

/* A reject of a shared tail. TCP gets a reset, so the local socket dies at once instead of
 * retransmitting into the deny and resuming silently if the policy is reverted; anything
 * else an ICMP port unreachable. With iso (the counted set of the direction's isolated
 * local pods, matched at its destination when dst) the matched entry counts the packet
 * for its pod; without, it is the last rule, for what no entry matched: fail closed. */
static void
add_reject(struct npd_chain *ch, const char *what, bool tcp, const char *iso, bool dst)
{
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	if (tcp)
		r.proto = 6;
	if (iso)
		match_set(&r, iso, dst, false);
	r.target = NPD_T_REJECT;
	r.reject_with = r.proto == 6 ? NPD_REJECT_TCP_RESET : NPD_REJECT_PORT_UNREACH;
	r.comment = npd_compile_comment(what);
	r.origin_rule = NPD_ORIGIN_RULE_NONE;
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

static const char *const deny_chain[2] = {"NPD-DENY-I", "NPD-DENY-E"};
static const char *const pickup_chain[2] = {"NPD-PICKUP-I", "NPD-PICKUP-E"};

/* The shared tails of direction d, for the counted set iso of its isolated local pods:
 * NPD-PICKUP- resets the mid-stream TCP segments NPD-FORWARD sends it, at either end of
 * such a pod (a connection has exactly one initiator), NPD-DENY- what no policy of a
 * group admitted. Both log first. */
static void
add_tails(struct npd_cc *c, int d, const char *iso)
{
	struct npd_table *t = npd_ruleset_table(c->rs, c->family);
	bool own_dst = d == DIR_IN;
	struct npd_chain *ch;
	char what[64];

	snprintf(what, sizeof(what), "netpold: mid-stream TCP, %s-isolated pod", dir_word[d]);
	ch = npd_ruleset_add_chain(t, pickup_chain[d]);
	add_drop_log(c, ch, d);
	add_reject(ch, what, true, iso, own_dst);
	add_reject(ch, what, true, iso, !own_dst);
	add_reject(ch, what, true, NULL, false);
	snprintf(what, sizeof(what), "netpold: default deny %s", dir_word[d]);
	ch = npd_ruleset_add_chain(t, deny_chain[d]);
	add_drop_log(c, ch, d);
	add_reject(ch, what, true, iso, own_dst);
	add_reject(ch, what, false, iso, own_dst);
	add_reject(ch, what, false, NULL, false);
}

/* The rules of group g's chain ch: the mark cleared and every policy chain tried,
 * returning as soon as one admitted; what none admits goes to the direction's deny. They
 * depend on the group's identity and the mark only, and so are the same in both families. */
static void
fill_group_chain(struct npd_cc *c, const struct npd_cc_group *g, struct npd_chain *ch)
{
	struct npd_rule r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.target = NPD_T_MARK;
	r.set_mark = 0;
	r.set_mask = c->o->mark;
	npd_ruleset_add_rule(ch, &r);
	for (i = 0; i < g->n_pols; i++) {
		memset(&r, 0, sizeof(r));
		r.target = NPD_T_JUMP;
		memcpy(r.jump, g->pol_chain[i], sizeof(r.jump));
		r.comment = npd_xstrdup(g->names->jump_comment[i]);
		npd_ruleset_add_rule(ch, &r);
		npd_rule_fini(&r);
		memset(&r, 0, sizeof(r));
		r.has_mark = true;
		r.mark_value = c->o->mark;
		r.mark_mask = c->o->mark;
		r.target = NPD_T_RETURN;
		npd_ruleset_add_rule(ch, &r);
	}
	memset(&r, 0, sizeof(r));
	r.target = NPD_T_JUMP;
	snprintf(r.jump, sizeof(r.jump), "%s", deny_chain[g->d]);
	npd_ruleset_add_rule(ch, &r);
}

/* Group g's chain and the policy chains it jumps to. Through a state the group's names
 * keep its chain, sealed, and every compile shares those rules instead of making them. */
static void
emit_group_chain(struct npd_cc *c, const struct npd_cc_group *g)
{
	struct npd_table *t = npd_ruleset_table(c->rs, c->family);
	struct npd_cc_gname *n = g->names;
	size_t i;

	/* The policy chains first: a chain moves when another is added; the table is sorted
	 * by name when sealed. */
	for (i = 0; i < g->n_pols; i++)
		npd_compile_policy_chain(c, g->pols[i], g->d, g->pol_chain[i]);
	if (!c->st) {
		fill_group_chain(c, g, npd_ruleset_add_chain(t, g->chain));
		return;
	}
	if (!n->has_built) {
		memset(&n->built, 0, sizeof(n->built));
		memcpy(n->built.name, g->chain, sizeof(n->built.name));
		fill_group_chain(c, g, &n->built);
		npd_chain_seal(&n->built);
		n->has_built = true;
	}
	npd_ruleset_add_chain_share(t, &n->built);
}

/* A rule of fwd jumping to chain for what set (matched at the destination when dst)
 * holds; a pickup rule only for mid-stream TCP. The match counts nothing: only the
 * rejects count for a pod. */
static void
add_jump(struct npd_cc *c, struct npd_chain *fwd, const char *set, bool dst, bool pickup,
	 const char *chain)
{
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	if (pickup)
		set_tcp_pickup(&r);
	match_set(&r, set, dst, true);
	r.target = NPD_T_JUMP;
	snprintf(r.jump, sizeof(r.jump), "%s", chain);
	r.comment = npd_xstrdup(c->tmp.data);
	npd_ruleset_add_rule(fwd, &r);
	npd_rule_fini(&r);
}

/* The groups of a direction are spread over this many dispatch chains by the hash of their
 * identity, so a group that comes or goes rewrites one of them (and the kernel resolves
 * the sets of its rules only), not one rule per group of the node. */
#define BUCKETS 16

static unsigned
bucket_of(const struct npd_cc_group *g)
{
	return (unsigned)(g->names->hash >> 60);
}

static const char *const dispatch_chain[2] = {"NPD-FWD-I", "NPD-FWD-E"};

static void
bucket_name(char out[NPD_CHAIN_NAMELEN], int d, unsigned b)
{
	snprintf(out, NPD_CHAIN_NAMELEN, "%s-%x", dispatch_chain[d], b);
}

/* NPD-FWD-I/-E: a jump to each dispatch chain of direction d that holds a group with a
 * set in c->family, each of which sends a packet, by source for egress and by destination
 * for ingress, to its group's chain. */
static void
add_dispatch(struct npd_cc *c, int d)
{
	struct npd_table *t = npd_ruleset_table(c->rs, c->family);
	bool used[BUCKETS] = {false};
	char name[NPD_CHAIN_NAMELEN];
	struct npd_chain *ch;
	struct npd_rule r;
	unsigned b;
	size_t i;

	for (i = 0; i < c->n_groups; i++)
		if (c->groups[i].d == d && c->groups[i].set[0])
			used[bucket_of(&c->groups[i])] = true;
	ch = npd_ruleset_add_chain(t, dispatch_chain[d]);
	for (b = 0; b < BUCKETS; b++) {
		if (!used[b])
			continue;
		memset(&r, 0, sizeof(r));
		r.target = NPD_T_JUMP;
		bucket_name(r.jump, d, b);
		npd_ruleset_add_rule(ch, &r);
	}
	for (b = 0; b < BUCKETS; b++) {
		if (!used[b])
			continue;
		bucket_name(name, d, b);
		ch = npd_ruleset_add_chain(t, name);
		for (i = 0; i < c->n_groups; i++) {
			const struct npd_cc_group *g = &c->groups[i];

			if (g->d != d || !g->set[0] || bucket_of(g) != b)
				continue;
			npd_buf_reset(&c->tmp);
			npd_buf_adds(&c->tmp, g->what);
			add_jump(c, ch, g->set, d == DIR_IN, false, g->chain);
		}
	}
}

/* The group rules of NPD-FORWARD, after established traffic: first the mid-stream TCP
 * segments at either end of an isolated local pod, each direction's at its own end
 * first; then a packet from an egress-isolated pod to NPD-FWD-E, one to an
 * ingress-isolated pod to NPD-FWD-I, which find its group (a packet between two local
 * pods is checked at both). Then the dispatch chains, the shared tails, the group chains
 * and the policy chains they jump to. */
void
npd_compile_groups(struct npd_cc *c, struct npd_chain *fwd)
{
	struct iso iso[2] = {{DIR_IN, 0, ""}, {DIR_EG, 0, ""}};
	struct npd_set *set;
	size_t i;
	int d, k;

	for (d = DIR_IN; d <= DIR_EG; d++) {
		iso[d].hash = npd_compile_name_hash(d == DIR_IN ? "LI|" : "LE|", 3);
		set = NULL;
		for (i = 0; i < c->n_groups; i++)
			if (c->groups[i].d == d)
				add_members(c, &c->groups[i], &set, make_iso_set, &iso[d]);
	}
	for (i = 0; i < c->n_groups; i++) {
		c->groups[i].set[0] = '\0';
		set = NULL;
		add_members(c, &c->groups[i], &set, make_group_set, &c->groups[i]);
	}
	for (k = 0; k < 4; k++) {
		/* egress at its source, ingress at its destination, then the other ends */
		d = k % 2 ? DIR_IN : DIR_EG;
		if (!iso[d].name[0])
			continue;
		npd_buf_reset(&c->tmp);
		npd_buf_printf(&c->tmp, "mid-stream TCP %s %s-isolated pods",
			       (k < 2) == (d == DIR_IN) ? "to" : "from", dir_word[d]);
		add_jump(c, fwd, iso[d].name, (k < 2) == (d == DIR_IN), true, pickup_chain[d]);
	}
	/* A group's members are all in iso[d]: its set exists whenever a group's does. */
	for (d = DIR_EG; d >= DIR_IN; d--) {
		if (!iso[d].name[0])
			continue;
		npd_buf_reset(&c->tmp);
		npd_buf_printf(&c->tmp, "%s %s-isolated pods: their groups",
			       d == DIR_IN ? "to" : "from", dir_word[d]);
		add_jump(c, fwd, iso[d].name, d == DIR_IN, false, dispatch_chain[d]);
	}
	/* fwd is complete: from here on chains are added (and fwd may move). */
	for (d = DIR_EG; d >= DIR_IN; d--)
		if (iso[d].name[0])
			add_dispatch(c, d);
	for (d = DIR_IN; d <= DIR_EG; d++)
		if (iso[d].name[0])
			add_tails(c, d, iso[d].name);
	for (i = 0; i < c->n_groups; i++)
		if (c->groups[i].set[0])
			emit_group_chain(c, &c->groups[i]);
}
