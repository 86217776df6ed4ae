/* compile_sets.c: the ipsets the compiler turns peers into, each computed once per compile
 * and family: one hash:ip set per distinct selector (cluster-wide membership), one
 * hash:net set per distinct ipBlock, hash:ip,port sets for named ports resolved at the
 * destination pod. A set's name hashes its identity, never its members. Pure, like
 * compile.c. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "compile_int.h"

static char
fam_char(uint8_t family)
{
	return family == AF_INET6 ? '6' : '4';
}

/* Looks up a set by identity (c->id); creates it (empty) when new. *created tells the
 * caller to fill it. Returns its index in rs->sets. */
static size_t
get_set(struct npd_cc *c, enum npd_set_type type, const char *comment, bool *created)
{
	void *v = npd_map_get(&c->sets, c->id.data);
	char name[NPD_SET_NAMELEN];

	*created = false;
	if (v)
		return (size_t)(uintptr_t)v - 1;
	snprintf(name, sizeof(name), "npd-%016" PRIx64 "-%c",
		 npd_compile_name_hash(c->id.data, c->id.len), fam_char(c->family));
	npd_ruleset_add_set(c->rs, name, type, c->family, comment);
	npd_map_set(&c->sets, c->id.data, (void *)(uintptr_t)c->rs->n_sets);
	*created = true;
	return c->rs->n_sets - 1;
}

bool
npd_compile_pick_entry(const struct npd_store *s, const char *node, uint8_t family,
		       const struct npd_cc_pick *p, const struct npd_pod *pod,
		       const struct npd_addr *a, struct npd_set_entry *e)
{
	uint16_t port = 0;

	if (!npd_pod_is_selectable(pod) || a->family != family)
		return false;
	if (p->local_only && !npd_compile_pod_is_local(pod, node))
		return false;
	if (p->port_name && npd_pod_find_named_port(pod, p->port_name, p->proto, &port) < 0)
		return false;
	if (!npd_compile_pod_owns_ip(s, pod, a))
		return false;
	if (p->block && !npd_peer_block_contains(p->block, a))
		return false;
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	if (p->port_name) {
		e->proto = (uint8_t)p->proto;
		e->port = port;
	}
	return true;
}

bool
npd_compile_pick_matches(const struct npd_store *s, const struct npd_cc_pick *p,
			 const struct npd_pod *pod)
{
	if (p->ns_sel) {
		const struct npd_labels *l = npd_store_ns_labels(s, pod->ns);

		if (!l || !npd_selector_matches(p->ns_sel, l))
			return false;
	} else if (strcmp(pod->ns, p->ns)) {
		return false;
	}
	return !p->pod_sel || npd_selector_matches(p->pod_sel, &pod->labels);
}

struct fill_ctx {
	const struct npd_store *s;
	const char *node;
	uint8_t family;
	const struct npd_cc_pick *pick;
	npd_compile_entry_fn fn;
	void *arg;
};

static void
fill_pod(const struct npd_pod *pod, void *arg)
{
	struct fill_ctx *f = arg;
	struct npd_set_entry e;
	size_t i;

	for (i = 0; i < pod->n_ips; i++)
		if (npd_compile_pick_entry(f->s, f->node, f->family, f->pick, pod, &pod->ips[i],
					   &e))
			f->fn(&e, f->arg);
}

void
npd_compile_pick_walk(const struct npd_store *s, const char *node, uint8_t family,
		      const struct npd_cc_pick *p, npd_compile_entry_fn fn, void *arg)
{
	struct fill_ctx f = {
	    .s = s, .node = node, .family = family, .pick = p, .fn = fn, .arg = arg};

	npd_store_select_pods(s, p->ns_sel, p->ns, p->pod_sel, fill_pod, &f);
}

static void
add_to_set(const struct npd_set_entry *e, void *arg)
{
	npd_ruleset_add_entry(arg, e);
}

/* Fills a new pod-derived set: from the incremental state when there is one (it keeps
 * the members between compiles), else by walking the store. */
static void
fill_set(struct npd_cc *c, size_t idx, const struct npd_cc_pick *p)
{
	struct npd_set *set = &c->rs->sets[idx];

	if (c->st)
		npd_compile_state_fill(c, set, p);
	else
		npd_compile_pick_walk(c->s, c->o->node_name, c->family, p, add_to_set, set);
}

/* The identity of a selector peer's pods, appended to b: the policy namespace takes part
 * only when there is no namespaceSelector, so equal selectors share one set. */
static void
sel_identity(const struct npd_policy *pol, const struct npd_peer *peer, struct npd_buf *b)
{
	if (peer->has_ns_sel) {
		npd_buf_adds(b, "ns=*|");
		npd_selector_format(&peer->ns_sel, b);
	} else {
		npd_buf_adds(b, "ns=");
		npd_compile_add_name(b, pol->ns);
		npd_buf_addc(b, '|');
	}
	npd_buf_addc(b, '|');
	if (peer->has_pod_sel)
		npd_selector_format(&peer->pod_sel, b);
}

static void
sel_comment(const struct npd_policy *pol, const struct npd_peer *peer, struct npd_buf *b)
{
	size_t mark;

	npd_buf_adds(b, "pods ");
	if (peer->has_ns_sel) {
		npd_buf_adds(b, "nssel=");
		mark = b->len;
		npd_selector_format(&peer->ns_sel, b);
		if (b->len == mark)
			npd_buf_addc(b, '*');
	} else {
		npd_buf_printf(b, "ns=%s", pol->ns);
	}
	npd_buf_addc(b, ' ');
	mark = b->len;
	if (peer->has_pod_sel)
		npd_selector_format(&peer->pod_sel, b);
	if (b->len == mark)
		npd_buf_addc(b, '*');
}

static void
peer_pick(const struct npd_policy *pol, const struct npd_peer *peer, struct npd_cc_pick *p)
{
	p->ns_sel = peer->has_ns_sel ? &peer->ns_sel : NULL;
	p->ns = peer->has_ns_sel ? NULL : pol->ns;
	p->pod_sel = peer->has_pod_sel ? &peer->pod_sel : NULL;
}

const struct npd_set *
npd_compile_selector_set(struct npd_cc *c, const struct npd_policy *pol,
			 const struct npd_peer *peer)
{
	struct npd_cc_pick p = {0};
	bool created;
	size_t idx;

	npd_buf_reset(&c->id);
	npd_buf_printf(&c->id, "sel|%c|", fam_char(c->family));
	sel_identity(pol, peer, &c->id);
	npd_buf_reset(&c->tmp);
	sel_comment(pol, peer, &c->tmp);
	idx = get_set(c, NPD_SET_HASH_IP, c->tmp.data, &created);
	if (created) {
		peer_pick(pol, peer, &p);
		fill_set(c, idx, &p);
	}
	return &c->rs->sets[idx];
}

static int
cidr_qcmp(const void *a, const void *b)
{
	return npd_cidr_cmp(a, b);
}

/* hash:net takes prefixes 1..32 (1..128): a /0 is its two /1 halves. */
static void
add_net(struct npd_set *set, const struct npd_cidr *cidr, bool nomatch)
{
	struct npd_set_entry e;

	memset(&e, 0, sizeof(e));
	e.addr = cidr->addr;
	e.nomatch = nomatch;
	if (cidr->prefix > 0) {
		e.prefix = cidr->prefix;
		npd_ruleset_add_entry(set, &e);
		return;
	}
	memset(e.addr.a, 0, sizeof(e.addr.a));
	e.prefix = 1;
	npd_ruleset_add_entry(set, &e);
	e.addr.a[0] = 0x80;
	npd_ruleset_add_entry(set, &e);
}

/* One set per ipBlock peer (shared only with an identical ipBlock), so that one peer's
 * except never vetoes an address another peer allows. */
const struct npd_set *
npd_compile_ipblock_set(struct npd_cc *c, const struct npd_peer *peer)
{
	struct npd_cidr *ex = npd_xcalloc(peer->n_except + 1, sizeof(*ex));
	char buf[NPD_CIDRSTRLEN];
	size_t i, n = 0, idx;
	bool created, covered = false;
	struct npd_set *set;

	for (i = 0; i < peer->n_except; i++)
		if (peer->except[i].addr.family == c->family)
			ex[n++] = peer->except[i];
	if (n > 1)
		qsort(ex, n, sizeof(*ex), cidr_qcmp);
	npd_buf_reset(&c->id);
	npd_buf_printf(&c->id, "net|%c|%s|", fam_char(c->family),
		       npd_cidr_format(&peer->cidr, buf));
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "ipBlock %s", buf);
	for (i = 0; i < n; i++) {
		npd_cidr_format(&ex[i], buf);
		npd_buf_printf(&c->id, "%s%s", i ? "," : "", buf);
		npd_buf_printf(&c->tmp, "%s%s", i ? "," : " except ", buf);
	}
	idx = get_set(c, NPD_SET_HASH_NET, c->tmp.data, &created);
	if (created) {
		set = &c->rs->sets[idx];
		for (i = 0; i < n; i++) {
			add_net(set, &ex[i], true);
			if (npd_cidr_covers(&ex[i], &peer->cidr))
				covered = true;
		}
		if (!covered)
			add_net(set, &peer->cidr, false);
	}
	free(ex);
	return &c->rs->sets[idx];
}

/* Ingress named port: (IP, proto:port) of the local pods this policy selects that define
 * the name. Only local pods can be the destination of a packet this chain sees. */
const struct npd_set *
npd_compile_ingress_port_set(struct npd_cc *c, const struct npd_policy *pol,
			     const struct npd_port *port)
{
	struct npd_cc_pick p = {.ns = pol->ns,
				.pod_sel = &pol->pod_sel,
				.port_name = port->name,
				.proto = port->proto,
				.local_only = true};
	bool created;
	size_t idx;

	npd_buf_reset(&c->id);
	npd_buf_printf(&c->id, "port|%c|local|ns=", fam_char(c->family));
	npd_compile_add_name(&c->id, pol->ns);
	npd_buf_addc(&c->id, '|');
	npd_selector_format(&pol->pod_sel, &c->id);
	npd_buf_printf(&c->id, "|%s|%s", port->name, npd_proto_name(port->proto));
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "port %s/%s of local pods of %s/%s", npd_proto_name(port->proto),
		       port->name, pol->ns, pol->name);
	idx = get_set(c, NPD_SET_HASH_IP_PORT, c->tmp.data, &created);
	if (created)
		fill_set(c, idx, &p);
	return &c->rs->sets[idx];
}

/* Egress named port: (IP, proto:port) of every pod the peer selects (every selectable pod
 * when the rule has no peers; for an ipBlock peer, every selectable pod whose address lies
 * in the block and outside its excepts) that defines the name. Matching it on dst,dst
 * implies the peer; an address that is no pod's never matches a named port. */
const struct npd_set *
npd_compile_egress_port_set(struct npd_cc *c, const struct npd_policy *pol,
			    const struct npd_peer *peer, const struct npd_port *port)
{
	struct npd_cc_pick p = {.port_name = port->name, .proto = port->proto};
	static const struct npd_selector all;
	bool created;
	size_t idx;

	npd_buf_reset(&c->id);
	npd_buf_printf(&c->id, "port|%c|", fam_char(c->family));
	npd_buf_reset(&c->tmp);
	npd_buf_printf(&c->tmp, "port %s/%s of ", npd_proto_name(port->proto), port->name);
	if (peer && peer->kind == NPD_PEER_IPBLOCK) {
		char buf[NPD_CIDRSTRLEN];
		size_t i;

		p.block = peer;
		npd_buf_printf(&c->id, "net=%s", npd_cidr_format(&peer->cidr, buf));
		npd_buf_printf(&c->tmp, "pods in %s", buf);
		for (i = 0; i < peer->n_except; i++) {
			npd_cidr_format(&peer->except[i], buf);
			npd_buf_printf(&c->id, ",%s", buf);
			npd_buf_printf(&c->tmp, "%s%s", i ? "," : " except ", buf);
		}
	} else if (peer) {
		sel_identity(pol, peer, &c->id);
		sel_comment(pol, peer, &c->tmp);
	} else {
		npd_buf_adds(&c->id, "*");
		npd_buf_adds(&c->tmp, "all pods");
	}
	npd_buf_printf(&c->id, "|%s|%s", port->name, npd_proto_name(port->proto));
	idx = get_set(c, NPD_SET_HASH_IP_PORT, c->tmp.data, &created);
	if (created) {
		if (peer && peer->kind == NPD_PEER_SELECTOR)
			peer_pick(pol, peer, &p);
		else
			p.ns_sel = &all;
		fill_set(c, idx, &p);
	}
	return &c->rs->sets[idx];
}

const struct npd_set *
npd_compile_kept_set(struct npd_cc *c, const struct npd_cc_setref *ref)
{
	void *v;
	struct npd_set *set;
	size_t i;

	npd_buf_reset(&c->id);
	npd_buf_adds(&c->id, ref->id);
	v = npd_map_get(&c->sets, c->id.data);
	if (v)
		return &c->rs->sets[(size_t)(uintptr_t)v - 1];
	set = npd_ruleset_add_set(c->rs, ref->name, ref->type, c->family, ref->comment);
	npd_map_set(&c->sets, c->id.data, (void *)(uintptr_t)c->rs->n_sets);
	if (ref->type != NPD_SET_HASH_NET)
		npd_compile_state_fill(c, set, NULL);
	for (i = 0; i < ref->n; i++)
		npd_ruleset_add_entry(set, &ref->e[i]);
	return set;
}
