/* sim.c: the policy simulator. It reads the Kubernetes NetworkPolicy reference directly
 * (isolation per direction, union of policies, egress at the source AND ingress at the
 * destination, peers, ports) over a const store and explains its verdict. It shares no
 * code with the compiler on purpose: the two are tested against each other. Pure: no I/O. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "npd/sim.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

bool
npd_sim_ns_matches(const struct npd_store *s, const struct npd_selector *sel, const char *ns)
{
	const struct npd_namespace *obj = npd_store_get_namespace(s, ns);
	struct npd_labels l = {0};
	bool ok;

	if (obj)
		return npd_selector_matches(sel, &obj->labels);
	npd_labels_set(&l, NS_NAME_LABEL, ns);
	ok = npd_selector_matches(sel, &l);
	npd_labels_fini(&l);
	return ok;
}

bool
npd_sim_peer_matches(const struct npd_store *s, const struct npd_policy *pol,
		     const struct npd_peer *peer, const struct npd_pod *pod,
		     const struct npd_addr *addr)
{
	if (peer->kind == NPD_PEER_IPBLOCK)
		return addr && npd_peer_block_contains(peer, addr);
	/* Selector peers name pods, never addresses, and only pods that can be peers by IP. */
	if (!pod || !npd_pod_is_selectable(pod))
		return false;
	if (peer->has_ns_sel) {
		if (!npd_sim_ns_matches(s, &peer->ns_sel, pod->ns))
			return false;
	} else if (strcmp(pod->ns, pol->ns) != 0) {
		return false;
	}
	return !peer->has_pod_sel || npd_selector_matches(&peer->pod_sel, &pod->labels);
}

bool
npd_sim_port_matches(const struct npd_port *p, const struct npd_pod *dst, uint16_t port,
		     enum npd_proto proto)
{
	uint16_t num;

	if (p->proto != proto)
		return false;
	if (!p->has_port)
		return true;
	if (p->name) {
		/* Named ports resolve at the destination pod, for ingress and egress alike. */
		if (!dst || npd_pod_find_named_port(dst, p->name, proto, &num) != 0)
			return false;
		return num == port;
	}
	if (p->end_port)
		return port >= p->port && port <= p->end_port;
	return port == p->port;
}

static bool
rule_admits(const struct npd_store *s, const struct npd_policy *pol,
	    const struct npd_policy_rule *r, const struct npd_pod *peer_pod,
	    const struct npd_addr *peer_addr, const struct npd_pod *dst, uint16_t port,
	    enum npd_proto proto)
{
	bool ok = r->n_peers == 0;
	size_t i;

	for (i = 0; !ok && i < r->n_peers; i++)
		ok = npd_sim_peer_matches(s, pol, &r->peers[i], peer_pod, peer_addr);
	if (!ok)
		return false;
	if (r->n_ports == 0)
		return true;
	for (i = 0; i < r->n_ports; i++)
		if (npd_sim_port_matches(&r->ports[i], dst, port, proto))
			return true;
	return false;
}

static const char *
unenforced_reason(const struct npd_pod *pod)
{
	if (pod->host_network)
		return "hostNetwork pod: it shares the node's network, policies do not apply";
	if (pod->phase == NPD_PHASE_SUCCEEDED || pod->phase == NPD_PHASE_FAILED)
		return "finished pod: not enforced";
	return "pod has no IP yet: not enforced";
}

bool
npd_sim_is_isolated(const struct npd_store *s, const struct npd_pod *pod, bool egress)
{
	const struct npd_policy *const *pols;
	size_t n = 0, i;

	if (!pod || !npd_pod_is_selectable(pod))
		return false;
	pols = npd_store_policies_in(s, pod->ns, &n);
	for (i = 0; i < n; i++)
		if ((egress ? pols[i]->isolates_egress : pols[i]->isolates_ingress) &&
		    npd_selector_matches(&pols[i]->pod_sel, &pod->labels))
			return true;
	return false;
}

/* Evaluates one side. self is the pod whose policies apply (source for egress, destination
 * for ingress), peer the other end; dst the destination pod, for named ports. */
static void
eval_side(const struct npd_store *s, bool egress, const struct npd_pod *self,
	  const struct npd_pod *peer, const struct npd_addr *peer_addr, const struct npd_pod *dst,
	  uint16_t port, enum npd_proto proto, struct npd_sim_side *side)
{
	const char *dir = egress ? "Egress" : "Ingress";
	const struct npd_policy *const *pols;
	struct npd_buf b, inval;
	size_t n = 0, i, j;
	char ab[NPD_ADDRSTRLEN];

	memset(side, 0, sizeof(*side));
	if (!self) {
		side->allowed = true;
		side->reason = npd_xasprintf("not a pod: no policy applies, %s allowed",
					     egress ? "egress" : "ingress");
		return;
	}
	if (!npd_pod_is_selectable(self)) {
		side->allowed = true;
		side->reason = npd_xstrdup(unenforced_reason(self));
		return;
	}
	side->enforced = true;
	pols = npd_store_policies_in(s, self->ns, &n);
	for (i = 0; i < n; i++) {
		const struct npd_policy *p = pols[i];

		if (!(egress ? p->isolates_egress : p->isolates_ingress))
			continue;
		if (!npd_selector_matches(&p->pod_sel, &self->labels))
			continue;
		side->isolating = npd_xrealloc(side->isolating,
					       (side->n_isolating + 1) * sizeof(*side->isolating));
		side->isolating[side->n_isolating++] = p;
	}
	if (side->n_isolating == 0) {
		side->allowed = true;
		side->reason = npd_xasprintf("not isolated for %s (no policy of namespace %s "
					     "selects it with %s in policyTypes): all allowed",
					     dir, self->ns, dir);
		return;
	}
	side->isolated = true;
	npd_buf_init(&b);
	npd_buf_init(&inval);
	npd_buf_adds(&b, "isolated for ");
	npd_buf_adds(&b, dir);
	npd_buf_adds(&b, " by ");
	for (i = 0; i < side->n_isolating; i++) {
		const struct npd_policy *p = side->isolating[i];
		const struct npd_policy_rule *rules = egress ? p->egress : p->ingress;
		size_t nr = egress ? p->n_egress : p->n_ingress;

		npd_buf_printf(&b, "%s%s/%s", i ? ", " : "", p->ns, p->name);
		if (p->invalid) {
			/* A broken policy still isolates but admits nothing: it must never widen. */
			npd_buf_printf(&inval, "; %s/%s is invalid (%s) and admits nothing", p->ns,
				       p->name, p->invalid_reason ? p->invalid_reason : "bad rule");
			continue;
		}
		for (j = 0; !side->admitted_by && j < nr; j++)
			if (rule_admits(s, p, &rules[j], peer, peer_addr, dst, port, proto)) {
				side->admitted_by = p;
				side->rule_index = j;
			}
	}
	if (side->admitted_by) {
		side->allowed = true;
		npd_buf_printf(&b, "; allowed by %s/%s %s rule %zu", side->admitted_by->ns,
			       side->admitted_by->name, egress ? "egress" : "ingress",
			       side->rule_index);
	} else {
		npd_buf_printf(&b, "; denied: no %s rule admits %s ", dir, egress ? "to" : "from");
		if (peer)
			npd_buf_printf(&b, "%s/%s", peer->ns, peer->name);
		else
			npd_buf_adds(&b, peer_addr && peer_addr->family
					     ? npd_addr_format(peer_addr, ab)
					     : "?");
		npd_buf_printf(&b, " port %u/%s", port, npd_proto_name(proto));
	}
	if (inval.len)
		npd_buf_adds(&b, inval.data);
	npd_buf_fini(&inval);
	side->reason = npd_buf_steal(&b);
	npd_buf_fini(&b);
}

/* The endpoint's address of family fam: 0 and out, or -EAFNOSUPPORT when a pod with IPs
 * has none of that family. A pod without any IP yields a zeroed address. */
static int
endpoint_addr(const struct npd_sim_endpoint *ep, int fam, struct npd_addr *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (ep->has_addr) {
		if (ep->addr.family != fam)
			return -EAFNOSUPPORT;
		*out = ep->addr;
		return 0;
	}
	if (!ep->pod || ep->pod->n_ips == 0)
		return 0;
	for (i = 0; i < ep->pod->n_ips; i++)
		if (ep->pod->ips[i].family == fam) {
			*out = ep->pod->ips[i];
			return 0;
		}
	return -EAFNOSUPPORT;
}

static int
pick_family(const struct npd_sim_endpoint *from, const struct npd_sim_endpoint *to)
{
	if (from->has_addr)
		return from->addr.family;
	if (to->has_addr)
		return to->addr.family;
	if (from->pod && from->pod->n_ips)
		return from->pod->ips[0].family;
	if (to->pod && to->pod->n_ips)
		return to->pod->ips[0].family;
	return AF_INET;
}

static void
describe(struct npd_buf *b, const struct npd_sim_endpoint *ep, const struct npd_addr *a)
{
	char ab[NPD_ADDRSTRLEN];

	if (ep->pod)
		npd_buf_printf(b, "%s/%s (%s)", ep->pod->ns, ep->pod->name,
			       a->family ? npd_addr_format(a, ab) : "no IP");
	else
		npd_buf_printf(b, "%s (not a pod)", npd_addr_format(a, ab));
}

int
npd_sim_run(const struct npd_store *s, const struct npd_sim_endpoint *from,
	    const struct npd_sim_endpoint *to, uint16_t port, enum npd_proto proto,
	    struct npd_sim_result *out)
{
	struct npd_sim_result r;
	struct npd_buf b;
	int fam = pick_family(from, to), err;

	memset(&r, 0, sizeof(r));
	err = endpoint_addr(from, fam, &r.src_addr);
	if (err == 0)
		err = endpoint_addr(to, fam, &r.dst_addr);
	if (err)
		return err;
	eval_side(s, true, from->pod, to->pod, &r.dst_addr, to->pod, port, proto, &r.egress);
	eval_side(s, false, to->pod, from->pod, &r.src_addr, to->pod, port, proto, &r.ingress);
	r.allowed = r.egress.allowed && r.ingress.allowed;

	npd_buf_init(&b);
	npd_buf_adds(&b, r.allowed ? "ALLOWED " : "DENIED ");
	describe(&b, from, &r.src_addr);
	npd_buf_adds(&b, " -> ");
	describe(&b, to, &r.dst_addr);
	npd_buf_printf(&b, " port %u/%s\n  egress at source: %s\n  ingress at destination: %s",
		       port, npd_proto_name(proto), r.egress.reason, r.ingress.reason);
	r.explanation = npd_buf_steal(&b);
	npd_buf_fini(&b);
	*out = r;
	return 0;
}

static void
side_fini(struct npd_sim_side *side)
{
	free(side->isolating);
	free(side->reason);
	memset(side, 0, sizeof(*side));
}

void
npd_sim_result_fini(struct npd_sim_result *r)
{
	if (!r)
		return;
	side_fini(&r->egress);
	side_fini(&r->ingress);
	free(r->explanation);
	r->explanation = NULL;
}

int
npd_sim_endpoint_parse(const struct npd_store *s, const char *spec, struct npd_sim_endpoint *out)
{
	struct npd_sim_endpoint ep;
	const char *slash = strchr(spec, '/');

	memset(&ep, 0, sizeof(ep));
	if (npd_addr_parse(spec, &ep.addr) == 0) {
		ep.has_addr = true;
		ep.pod = npd_store_pod_by_ip(s, &ep.addr);
	} else if (slash && slash != spec && slash[1] && !strchr(slash + 1, '/')) {
		char *ns = npd_xstrndup(spec, (size_t)(slash - spec));

		ep.pod = npd_store_get_pod(s, ns, slash + 1);
		free(ns);
		if (!ep.pod)
			return -ENOENT;
	} else {
		return -EINVAL;
	}
	*out = ep;
	return 0;
}

int
npd_sim_port_parse(const char *s, uint16_t *port, enum npd_proto *proto)
{
	char *end, up[8];
	unsigned long v;
	size_t i;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || v == 0 || v > 65535 || (*end && *end != '/') || s[0] == '-')
		return -EINVAL;
	*proto = NPD_PROTO_TCP;
	if (*end == '/') {
		end++;
		if (strlen(end) >= sizeof(up))
			return -EINVAL;
		for (i = 0; end[i]; i++)
			up[i] = (char)toupper((unsigned char)end[i]);
		up[i] = '\0';
		if (npd_proto_parse(up, proto) != 0)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}
