/* compile.c turns a store into the desired ruleset of one node. Pure: no I/O, no clock,
 * no globals; output order is deterministic (the ruleset is sealed, so chains and sets
 * are sorted by name and set entries by value).
 *
 * Layout, per family, in the filter table:
 *   FORWARD -> NPD-FORWARD: established/related returned at once (and IPv6 neighbour
 *     discovery), then the mid-stream TCP segments at either end of an isolated local pod
 *     to NPD-PICKUP-E/-I, then packets from egress-isolated local pods to NPD-FWD-E and
 *     packets to ingress-isolated ones to NPD-FWD-I. Those jump to their dispatch chains
 *     NPD-FWD-E-<x>/NPD-FWD-I-<x> (x: 0-f, the top hex digit of a group's hash), which
 *     hold "-m set --match-set G src -j NPD-E-<h>" for each of their egress groups and
 *     "-m set --match-set G dst -j NPD-I-<h>" for each ingress group. A group is one list
 *     of policies selecting local pods in one direction (so all of one namespace); its set
 *     G holds the addresses of the local pods that list selects. So a local pod that
 *     joins, leaves or changes groups that exist is set membership only, never a table
 *     commit, and a group that comes or goes rewrites its dispatch chain, a sixteenth of
 *     the groups. Allowed traffic returns and falls through to the rest of
 *     FORWARD (the CNI's and kube-proxy's rules). Only FORWARD is hooked: bridged traffic
 *     reaches it through br_netfilter, routed traffic directly. INPUT and OUTPUT are left
 *     alone on purpose: traffic between a pod and its own node (kubelet probes) is always
 *     allowed, as the Kubernetes documentation says.
 *   NPD-I-<h>/NPD-E-<h> (h: hash of the group's identity "GI|ns/pol1,pol2"): clear our
 *     mark bit, jump to the chain of every policy of the group and return as soon as one
 *     set the bit; else go to NPD-DENY-I/-E, which logs (rate-limited NFLOG) and rejects
 *     (TCP with a reset, the rest with ICMP), as NPD-PICKUP- resets. Their rejects match
 *     the counted set of the direction's isolated local pods: each pod's entry counts its
 *     default-deny packets, where the jumps' matches (! --update-counters) count nothing
 *     (compile_groups.c).
 *   NPD-PI-<h>/NPD-PE-<h> (h: hash of "PI|ns/name"): one rule per peer x port setting the
 *     mark bit (compile_policy.c). Names hash identities, never content, so kernel
 *     counters survive edits.
 * Peers become ipsets, each computed once per compile: one hash:ip set per distinct
 * selector (cluster-wide membership), one hash:net set per ipBlock, hash:ip,port sets
 * for named ports resolved at the destination pod. Through an incremental state, a policy
 * chain that no change since the last compile can alter shares the rules that compile
 * emitted (compile_chains.c), a group's chain those of the group's first compile, and a
 * local pod is analysed anew only when a change can alter what it was found to be. */
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
#include "compile_state_int.h"

#define COMMENT_MAX 255

enum dir { DIR_IN, DIR_EG };

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

void
npd_compile_policy_chain_name(char out[NPD_CHAIN_NAMELEN], const struct npd_policy *pol, int d,
			      struct npd_buf *tmp)
{
	chain_name(out, d == DIR_IN ? "PI" : "PE", pol->ns, pol->name, tmp);
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

/* Fills lp (zeroed) for local pod pod: the policies of its namespace selecting it, per
 * direction, in store order. */
static void
analyse_local(const struct npd_store *s, const struct npd_pod *pod, struct npd_cc_local *lp)
{
	const struct npd_policy *const *pols;
	size_t n_pols, k;
	int d;

	lp->pod = pod;
	pols = npd_store_policies_in(s, pod->ns, &n_pols);
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
}

/* Bit j (j < 32) set when pod->ips[j] is the pod's, not a newer pod's. */
static uint32_t
owned_bits(const struct npd_store *s, const struct npd_pod *pod)
{
	uint32_t owned = 0;
	size_t k;

	for (k = 0; k < pod->n_ips && k < 32; k++)
		if (npd_compile_pod_owns_ip(s, pod, &pod->ips[k]))
			owned |= 1u << k;
	return owned;
}

/* Adds local pod lp (its policies and owned addresses found) to the compile, then to its
 * groups. */
static void
add_local(struct npd_cc *c, const struct npd_cc_local *lp)
{
	int d;

	npd_xgrow(&c->locals, &c->cap_locals, c->n_locals + 1, sizeof(*c->locals));
	c->locals[c->n_locals++] = *lp;
	for (d = DIR_IN; d <= DIR_EG; d++)
		c->locals[c->n_locals - 1].group[d] =
		    lp->n_pols[d] ? npd_compile_join_group(c, c->n_locals - 1, d) : SIZE_MAX;
}

/* Analyses kept local pod k anew (its pod is the store's): its policies and the
 * identities of its groups. */
static void
refresh_kept(struct npd_cc *c, struct npd_cc_kept_local *k)
{
	const struct npd_pod *pod = k->l.pod;
	int d;

	for (d = DIR_IN; d <= DIR_EG; d++) {
		free(k->l.pols[d]);
		free(k->gid[d]);
		k->gid[d] = NULL;
	}
	memset(&k->l, 0, sizeof(k->l));
	k->l.pod = pod;
	k->l.borrowed = true;
	k->dirty = false;
	npd_compile_state_local_addrs(c->st, k, pod);
	if (!npd_compile_pod_is_local(pod, c->o->node_name))
		return;
	analyse_local(c->s, pod, &k->l);
	for (d = DIR_IN; d <= DIR_EG; d++) {
		if (!k->l.n_pols[d])
			continue;
		npd_compile_group_id(&c->id, &k->l, d);
		k->gid[d] = npd_xstrdup(c->id.data);
		k->l.gid[d] = k->gid[d];
	}
}

/* The local pods in store order (namespace, then name): from the incremental state's
 * kept ones when there is one (analysed anew where a change can have altered them), else
 * by walking every pod. */
static void
collect_locals(struct npd_cc *c)
{
	const char *const *names;
	struct npd_cc_local lp;
	size_t n_ns, i, j;

	if (c->st) {
		struct npd_cc_kept_local *const *kl = npd_compile_state_locals(c->st, c->s, &n_ns);

		for (i = 0; i < n_ns; i++) {
			struct npd_cc_kept_local *k = kl[i];

			if (k->dirty)
				refresh_kept(c, k);
			if (!npd_compile_pod_is_local(k->l.pod, c->o->node_name))
				continue;
			if (k->owned_stale || c->st->owned_stale_all) {
				k->l.owned = owned_bits(c->s, k->l.pod);
				k->owned_stale = false;
			}
			add_local(c, &k->l);
		}
		c->st->owned_stale_all = false;
		return;
	}
	names = npd_store_ns_names(c->s, &n_ns);
	for (i = 0; i < n_ns; i++) {
		const struct npd_pod *const *pods;
		size_t n_pods;

		pods = npd_store_pods_in(c->s, names[i], &n_pods);
		for (j = 0; j < n_pods; j++) {
			if (!npd_compile_pod_is_local(pods[j], c->o->node_name))
				continue;
			memset(&lp, 0, sizeof(lp));
			analyse_local(c->s, pods[j], &lp);
			lp.owned = owned_bits(c->s, pods[j]);
			add_local(c, &lp);
		}
	}
}

char *
npd_compile_comment(const char *s)
{
	return truncated(s, COMMENT_MAX);
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
	npd_compile_groups(c, fwd);
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
		if (c.locals[i].borrowed)
			continue;
		free(c.locals[i].pols[DIR_IN]);
		free(c.locals[i].pols[DIR_EG]);
	}
	free(c.locals);
	for (i = 0; i < c.n_groups; i++) {
		free(c.groups[i].id);
		npd_compile_gname_free(c.groups[i].own_names);
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
