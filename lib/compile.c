/* compile.c turns a store into the desired ruleset of one node. Pure: no I/O, no clock,
 * no globals; output order is deterministic (the ruleset is sealed, so chains and sets
 * are sorted by name and set entries by value).
 *
 * Layout, per family, in the filter table:
 *   FORWARD -> NPD-FORWARD: established/related returned at once, then "-s POD_IP -j NPD-E-<h>"
 *     for every local pod isolated for egress, then "-d POD_IP -j NPD-I-<h>" for every
 *     local pod isolated for ingress. Allowed traffic returns and falls through to the rest
 *     of FORWARD (the CNI's and kube-proxy's rules). Only FORWARD is hooked: bridged
 *     traffic reaches it through br_netfilter, routed traffic directly. INPUT and OUTPUT
 *     are left alone on purpose: traffic between a pod and its own node (kubelet probes)
 *     is always allowed, as the Kubernetes documentation says.
 *     IPv6 neighbour discovery is returned too. A pod isolated in one direction only also
 *     sends its mid-stream TCP pickups of the other direction to its chain.
 *   NPD-I-<h>/NPD-E-<h> (h: hash of the pod's identity "I|ns/name"): log and reset a TCP
 *     segment that is NEW but no SYN, clear our mark bit, jump to the chain of every policy
 *     selecting the pod in that direction and return as soon as one set the bit; else log
 *     (rate-limited NFLOG) and reject (TCP with a reset, the rest with ICMP).
 *   NPD-PI-<h>/NPD-PE-<h> (h: hash of "PI|ns/name"): one rule per peer x port setting the
 *     mark bit (compile_policy.c). Names hash identities, never content, so kernel
 *     counters survive edits.
 * Peers become ipsets, each computed once per compile: one hash:ip set per distinct
 * selector (cluster-wide membership), one hash:net set per ipBlock, hash:ip,port sets
 * for named ports resolved at the destination pod. Through an incremental state, a local
 * pod's chains and NPD-FORWARD rules that no change since the last compile can alter are
 * copied from what that compile emitted (compile_chains.c), in the same place. */
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

static bool
pod_has_family(const struct npd_cc *c, const struct npd_pod *pod)
{
	size_t i;

	for (i = 0; i < pod->n_ips; i++)
		if (pod->ips[i].family == c->family &&
		    npd_compile_pod_owns_ip(c->s, pod, &pod->ips[i]))
			return true;
	return false;
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
	lp->cp = c->st ? npd_compile_chains_pod(c, pod) : NULL;
	for (d = DIR_IN; d <= DIR_EG; d++)
		if (lp->cp)
			memcpy(lp->chain[d], lp->cp->chain[d], sizeof(lp->chain[d]));
		else
			chain_name(lp->chain[d], d == DIR_IN ? "I" : "E", pod->ns, pod->name,
				   &c->tmp);
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

/* The rate-limited NFLOG rule of a pod chain, whose prefix names the pod for the drop log. */
static void
add_drop_log(struct npd_cc *c, struct npd_chain *ch, const struct npd_pod *pod, enum dir d,
	     bool pickup)
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
	npd_buf_printf(&c->tmp, "NPD DROP %c %s/%s", d == DIR_IN ? 'I' : 'E', pod->ns, pod->name);
	r.nflog_prefix = truncated(c->tmp.data, NPD_NFLOG_PREFIXLEN - 1);
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

/* A reject of the pod's deny (counted for the pod): TCP gets a reset, so the local socket
 * dies at once instead of retransmitting into the deny and resuming silently if the policy
 * is reverted; anything else an ICMP port unreachable. */
static void
add_deny(struct npd_cc *c, struct npd_chain *ch, const struct npd_pod *pod, enum dir d, bool pickup,
	 bool tcp)
{
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	if (pickup)
		set_tcp_pickup(&r);
	else if (tcp)
		r.proto = 6;
	r.target = NPD_T_REJECT;
	r.reject_with = pickup || tcp ? NPD_REJECT_TCP_RESET : NPD_REJECT_PORT_UNREACH;
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "netpold: %s %s %s/%s", pickup ? "mid-stream TCP" : "default deny",
		       dir_word[d], pod->ns, pod->name);
	set_comment(&r, &c->tmp);
	r.origin_rule = NPD_ORIGIN_RULE_DENY;
	npd_ruleset_add_rule(ch, &r);
	npd_rule_fini(&r);
}

/* A pod chain the last compile emitted: its policies' chains first, as building does; its
 * jumps name the policies lp->pols[d] holds, in that order. */
static void
copy_pod_chain(struct npd_cc *c, const struct npd_cc_local *lp, enum dir d)
{
	const struct npd_chain *kept = &lp->cp->ch[c->family == AF_INET6][d];
	size_t i, k = 0;

	for (i = 0; i < kept->n_rules; i++)
		if (kept->rules[i].target == NPD_T_JUMP && k < lp->n_pols[d])
			npd_compile_policy_chain(c, lp->pols[d][k++], d, kept->rules[i].jump);
	npd_ruleset_add_chain_copy(npd_ruleset_table(c->rs, c->family), kept);
}

static void
emit_pod_chain(struct npd_cc *c, const struct npd_cc_local *lp, enum dir d, const char *name)
{
	struct npd_table *t = npd_ruleset_table(c->rs, c->family);
	const struct npd_pod *pod = lp->pod;
	char pname[NPD_CHAIN_NAMELEN];
	struct npd_chain *ch;
	struct npd_rule r;
	size_t i;

	/* The policy chains first, so ch stays valid while it is filled (a chain moves when
	 * another is added); the table is sorted by name when sealed. */
	for (i = 0; i < lp->n_pols[d]; i++) {
		chain_name(pname, d == DIR_IN ? "PI" : "PE", lp->pols[d][i]->ns,
			   lp->pols[d][i]->name, &c->tmp);
		npd_compile_policy_chain(c, lp->pols[d][i], d, pname);
	}
	ch = npd_ruleset_add_chain(t, name);
	npd_chain_set_origin(ch, NPD_ORIGIN_POD, origin_dir(d), pod->ns, pod->name);
	/* First, before any policy can admit it: a connection has exactly one initiator. */
	add_drop_log(c, ch, pod, d, true);
	add_deny(c, ch, pod, d, true, true);
	memset(&r, 0, sizeof(r));
	r.target = NPD_T_MARK;
	r.set_mark = 0;
	r.set_mask = c->o->mark;
	npd_ruleset_add_rule(ch, &r);
	for (i = 0; i < lp->n_pols[d]; i++) {
		const struct npd_policy *pol = lp->pols[d][i];

		chain_name(pname, d == DIR_IN ? "PI" : "PE", pol->ns, pol->name, &c->tmp);
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
	add_drop_log(c, ch, pod, d, false);
	add_deny(c, ch, pod, d, false, true);
	add_deny(c, ch, pod, d, false, false);
}

static void
add_jumps(struct npd_cc *c, struct npd_chain *fwd, enum dir d)
{
	int fi = c->family == AF_INET6;
	struct npd_rule r;
	size_t i, j;

	for (i = 0; i < c->n_locals; i++) {
		struct npd_cc_local *lp = &c->locals[i];
		const struct npd_pod *pod = lp->pod;

		if (lp->cp) {
			for (j = 0; j < lp->cp->n_fwd[fi][d]; j++)
				npd_ruleset_add_rule(fwd, &lp->cp->fwd[fi][d][j]);
			continue;
		}
		lp->fwd_at[fi][d] = fwd->n_rules;
		if (!lp->n_pols[d] || !pod_has_family(c, pod))
			continue;
		for (j = 0; j < pod->n_ips; j++) {
			const struct npd_addr *a = &pod->ips[j];

			if (a->family != c->family || !npd_compile_pod_owns_ip(c->s, pod, a))
				continue;
			memset(&r, 0, sizeof(r));
			if (d == DIR_IN) {
				r.has_dst = true;
				r.dst.addr = *a;
				r.dst.prefix = c->family == AF_INET6 ? 128 : 32;
			} else {
				r.has_src = true;
				r.src.addr = *a;
				r.src.prefix = c->family == AF_INET6 ? 128 : 32;
			}
			r.target = NPD_T_JUMP;
			memcpy(r.jump, lp->chain[d], sizeof(r.jump));
			npd_buf_reset(&c->tmp);
			npd_buf_printf(&c->tmp, "%s/%s %s", pod->ns, pod->name, dir_word[d]);
			set_comment(&r, &c->tmp);
			npd_ruleset_add_rule(fwd, &r);
			if (!lp->n_pols[d == DIR_IN ? DIR_EG : DIR_IN]) {
				/* Not isolated the other way: its mid-stream pickups in that
				 * direction still go to this chain, whose first rules reject
				 * them (a deny on one side must not resume as replies). */
				r.has_src = d == DIR_IN;
				r.has_dst = d == DIR_EG;
				r.src.addr = r.dst.addr = *a;
				r.src.prefix = r.dst.prefix = c->family == AF_INET6 ? 128 : 32;
				set_tcp_pickup(&r);
				npd_buf_reset(&c->tmp);
				npd_buf_printf(&c->tmp, "%s/%s %s: mid-stream TCP %s it", pod->ns,
					       pod->name, dir_word[d], d == DIR_IN ? "from" : "to");
				set_comment(&r, &c->tmp);
				npd_ruleset_add_rule(fwd, &r);
			}
			npd_rule_fini(&r);
		}
		lp->fwd_n[fi][d] = fwd->n_rules - lp->fwd_at[fi][d];
	}
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
	int fi = family == AF_INET6;
	struct npd_chain *fwd;
	struct npd_rule r;
	size_t i;
	int d;

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
	/* Egress first, then ingress: a packet between two local pods is checked at both. */
	add_jumps(c, fwd, DIR_EG);
	add_jumps(c, fwd, DIR_IN);
	for (d = DIR_IN; d <= DIR_EG; d++)
		for (i = 0; i < c->n_locals; i++) {
			const struct npd_cc_local *lp = &c->locals[i];

			if (lp->cp ? !lp->cp->has[fi][d]
				   : !lp->n_pols[d] || !pod_has_family(c, lp->pod))
				continue;
			if (lp->cp)
				copy_pod_chain(c, lp, (enum dir)d);
			else
				emit_pod_chain(c, lp, (enum dir)d, lp->chain[d]);
		}
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
