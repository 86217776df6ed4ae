/* tu_eval.c: the kernel's walk through a ruleset, modelled from netfilter's documented
 * behaviour rather than from the compiler: a hook jumps from the built-in chain, a rule
 * matches when all its matches hold, JUMP pushes, RETURN or the end of a user chain pops,
 * MARK rewrites the packet mark under its mask, NFLOG and match-only rules go on, REJECT
 * and DROP end the walk. The first packet of a connection is NEW, so ctstate rules for
 * ESTABLISHED/RELATED never match, and a TCP one is a SYN, so "! --syn" never matches; it is
 * TCP, UDP or SCTP, so an ICMPv6 type match never does either. ipset lookups follow the kernel: hash:ip is an exact
 * match, hash:net the longest matching prefix decides and a nomatch entry means "not in
 * the set", hash:ip,port needs address, protocol and port. Shares no code with
 * lib/compile.c on purpose. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "npd/buf.h"
#include "tu_eval.h"

#define MAX_DEPTH 16

static bool
addr_eq(const struct npd_addr *a, const struct npd_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, sizeof(a->a));
}

static bool
in_prefix(const struct npd_addr *a, const struct npd_addr *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (a->family != net->family)
		return false;
	if (memcmp(a->a, net->a, full))
		return false;
	if (!rest)
		return true;
	return ((a->a[full] ^ net->a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* The set's answer for one address (and port for hash:ip,port). */
static bool
set_has(const struct npd_set *set, const struct npd_addr *a, uint8_t proto, uint16_t port)
{
	int best = -1;
	bool best_nomatch = false;
	size_t i;

	if (set->family != a->family)
		return false;
	for (i = 0; i < set->n_entries; i++) {
		const struct npd_set_entry *e = &set->entries[i];

		switch (set->type) {
		case NPD_SET_HASH_IP:
			if (addr_eq(&e->addr, a))
				return true;
			break;
		case NPD_SET_HASH_IP_PORT:
			if (addr_eq(&e->addr, a) && e->proto == proto && e->port == port)
				return true;
			break;
		case NPD_SET_HASH_NET:
			if (in_prefix(a, &e->addr, e->prefix) && (int)e->prefix > best) {
				best = e->prefix;
				best_nomatch = e->nomatch;
			}
			break;
		}
	}
	return best >= 0 && !best_nomatch;
}

static int
set_match(const struct npd_ruleset *rs, const struct npd_set_match *m, const struct tu_packet *p,
	  bool *out)
{
	const struct npd_set *set = npd_ruleset_find_set(rs, m->name);
	const struct npd_addr *a;
	bool hit;

	if (!set)
		return -1;
	a = (m->dirs & NPD_SETDIR_DST(0)) ? &p->dst : &p->src;
	if (set->type == NPD_SET_HASH_IP_PORT) {
		/* The port dimension: only "dst,dst" is ever meaningful for a connection's
		 * first packet towards a service port. */
		if (m->dims != 2 || !(m->dirs & NPD_SETDIR_DST(1)))
			return -1;
		hit = set_has(set, a, p->proto, p->dport);
	} else {
		if (m->dims != 1)
			return -1;
		hit = set_has(set, a, 0, 0);
	}
	*out = hit != m->negate;
	return 0;
}

/* 1: matches, 0: does not, -1: malformed. */
static int
rule_matches(const struct npd_ruleset *rs, const struct npd_rule *r, const struct tu_packet *p,
	     uint32_t mark)
{
	size_t i;
	bool hit;

	if (r->has_src && !in_prefix(&p->src, &r->src.addr, r->src.prefix))
		return 0;
	if (r->has_dst && !in_prefix(&p->dst, &r->dst.addr, r->dst.prefix))
		return 0;
	if (r->proto && r->proto != p->proto)
		return 0;
	if (r->dport_lo || r->dport_hi) {
		if (!r->proto)
			return -1;
		if (p->dport < r->dport_lo || p->dport > r->dport_hi)
			return 0;
	}
	if (r->tcp_not_syn || r->has_icmp6_type)
		return 0;
	for (i = 0; i < r->n_sets; i++) {
		if (set_match(rs, &r->sets[i], p, &hit) < 0)
			return -1;
		if (!hit)
			return 0;
	}
	if (r->ctstate && !(r->ctstate & NPD_CT_NEW))
		return 0;
	if (r->has_mark && ((mark & r->mark_mask) == r->mark_value) == r->mark_negate)
		return 0;
	/* --limit: the first packet of a flow is within any burst. */
	return 1;
}

struct frame {
	const struct npd_chain *chain;
	size_t next;
};

static void
trace_line(struct npd_buf *trace, const struct npd_chain *c, size_t i, const char *what)
{
	if (trace)
		npd_buf_printf(trace, "%s#%zu %s\n", c->name, i, what);
}

/* Walks one hook's chain. Returns TU_PASS when it returns to the built-in chain. */
static enum tu_verdict
walk(const struct npd_ruleset *rs, const struct npd_table *t, const char *start,
     const struct tu_packet *p, uint32_t *mark, struct npd_buf *trace)
{
	struct frame stack[MAX_DEPTH];
	size_t depth = 0;

	stack[0].chain = npd_ruleset_find_chain(t, start);
	stack[0].next = 0;
	if (!stack[0].chain)
		return TU_ERROR;
	for (;;) {
		struct frame *f = &stack[depth];
		const struct npd_rule *r;
		int m;

		if (f->next >= f->chain->n_rules) {
			if (depth == 0)
				return TU_PASS;
			depth--;
			continue;
		}
		r = &f->chain->rules[f->next++];
		m = rule_matches(rs, r, p, *mark);
		if (m < 0)
			return TU_ERROR;
		if (!m)
			continue;
		switch (r->target) {
		case NPD_T_NONE:
		case NPD_T_NFLOG:
			trace_line(trace, f->chain, f->next - 1, "continue");
			break;
		case NPD_T_MARK:
			*mark = (*mark & ~r->set_mask) ^ r->set_mark;
			trace_line(trace, f->chain, f->next - 1, "mark");
			break;
		case NPD_T_RETURN:
			trace_line(trace, f->chain, f->next - 1, "return");
			if (depth == 0)
				return TU_PASS;
			depth--;
			break;
		case NPD_T_ACCEPT:
			/* ACCEPT ends the whole FORWARD walk, not only ours. */
			trace_line(trace, f->chain, f->next - 1, "accept");
			return TU_PASS;
		case NPD_T_DROP:
		case NPD_T_REJECT:
			trace_line(trace, f->chain, f->next - 1, "reject");
			return TU_REJECT;
		case NPD_T_JUMP:
			trace_line(trace, f->chain, f->next - 1, r->jump);
			if (depth + 1 >= MAX_DEPTH)
				return TU_ERROR;
			stack[depth + 1].chain = npd_ruleset_find_chain(t, r->jump);
			stack[depth + 1].next = 0;
			if (!stack[depth + 1].chain)
				return TU_ERROR;
			depth++;
			break;
		}
	}
}

enum tu_verdict
tu_eval(const struct npd_ruleset *rs, const struct tu_packet *p, struct npd_buf *trace)
{
	const struct npd_table *t = npd_ruleset_get_table(rs, p->src.family);
	uint32_t mark = 0;
	size_t i;

	if (p->src.family != p->dst.family)
		return TU_ERROR;
	for (i = 0; i < t->n_hooks; i++) {
		enum tu_verdict v;

		if (strcmp(t->hooks[i].builtin, "FORWARD"))
			continue;
		v = walk(rs, t, t->hooks[i].chain, p, &mark, trace);
		if (v != TU_PASS)
			return v;
	}
	return TU_PASS;
}

/* 1 or 2: the node whose FORWARD hook checks this end of a packet, or 0 (an outside
 * address, or one no selectable pod owns: a hostNetwork pod's is its node's). */
static int
forward_node(const struct npd_store *s, const struct npd_addr *a)
{
	const struct npd_pod *pod = npd_store_pod_by_ip(s, a);

	if (!pod || !pod->node)
		return 0;
	return !strcmp(pod->node, "node1") ? 1 : !strcmp(pod->node, "node2") ? 2 : 0;
}

enum tu_verdict
tu_eval_nodes(const struct npd_store *s, const struct npd_ruleset *const rs[2],
	      const struct tu_packet *p, struct npd_buf *trace)
{
	int nodes[2] = {forward_node(s, &p->src), forward_node(s, &p->dst)}, i;
	enum tu_verdict v, out = TU_PASS;

	if (nodes[1] == nodes[0])
		nodes[1] = 0;
	for (i = 0; i < 2; i++) {
		if (!nodes[i])
			continue;
		if (trace)
			npd_buf_printf(trace, "rules of node%d:\n", nodes[i]);
		v = tu_eval(rs[nodes[i] - 1], p, trace);
		if (v == TU_ERROR)
			return TU_ERROR;
		if (v == TU_REJECT)
			out = TU_REJECT;
	}
	return out;
}
