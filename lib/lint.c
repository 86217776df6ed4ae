/* lint.c: warnings about policies that are valid but probably not what their author meant.
 * Each finding is one NPD_DIAG_LINT diagnostic naming the policy, the field path and what
 * to write instead. Reads a const store; reuses the simulator's peer and namespace matching
 * so that lint and simulate never disagree about what a selector selects. No I/O. */
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/lint.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "npd/sim.h"

struct lint {
	const struct npd_store *s;
	struct npd_diags *d;
	size_t n;
	bool have_pods; /* selector checks mean nothing on a policies-only input */
};

static void __attribute__((format(printf, 4, 5)))
warn(struct lint *l, const struct npd_policy *p, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	npd_diags_vadd(l->d, NPD_DIAG_LINT, "NetworkPolicy", p->ns, p->name, path, NULL, 0, fmt,
		       ap);
	va_end(ap);
	l->n++;
}

/* "{app=api}" or "{}" (which selects everything): owned string. */
static char *
sel_text(const struct npd_selector *sel)
{
	struct npd_buf b;
	char *out;

	npd_buf_init(&b);
	npd_buf_addc(&b, '{');
	npd_selector_format(sel, &b);
	npd_buf_addc(&b, '}');
	out = npd_buf_steal(&b);
	npd_buf_fini(&b);
	return out;
}

typedef bool (*pod_pred)(const struct npd_pod *pod, const void *ctx);

/* Counts pods of the store (every namespace) satisfying pred; the first one in *first. */
static size_t
count_pods(const struct lint *l, pod_pred pred, const void *ctx, const struct npd_pod **first)
{
	const char *const *names;
	size_t nn = 0, i, j, np, n = 0;

	names = npd_store_ns_names(l->s, &nn);
	for (i = 0; i < nn; i++) {
		const struct npd_pod *const *pods = npd_store_pods_in(l->s, names[i], &np);

		for (j = 0; j < np; j++)
			if (pred(pods[j], ctx)) {
				if (n == 0 && first)
					*first = pods[j];
				n++;
			}
	}
	return n;
}

static bool
any_pod(const struct npd_pod *pod, const void *ctx)
{
	(void)pod;
	(void)ctx;
	return true;
}

/* Check 1: a ns-only entry beside a pod-only entry reads like the AND it is not. */
static void
check_one_dash(struct lint *l, const struct npd_policy *p, const struct npd_policy_rule *r,
	       const char *dir, const char *list, size_t ri)
{
	size_t i, a = r->n_peers, b = r->n_peers;
	char *ns_s, *pod_s, *path;

	for (i = 0; i < r->n_peers; i++) {
		const struct npd_peer *pe = &r->peers[i];

		if (pe->kind != NPD_PEER_SELECTOR)
			continue;
		if (pe->has_ns_sel && !pe->has_pod_sel && a == r->n_peers)
			a = i;
		if (pe->has_pod_sel && !pe->has_ns_sel && b == r->n_peers)
			b = i;
	}
	if (a == r->n_peers || b == r->n_peers)
		return;
	ns_s = sel_text(&r->peers[a].ns_sel);
	pod_s = sel_text(&r->peers[b].pod_sel);
	path = npd_xasprintf("spec.%s[%zu].%s", dir, ri, list);
	warn(
	    l, p, path,
	    "%s[%zu] (namespaceSelector %s) and %s[%zu] (podSelector %s) are two entries, an OR: "
	    "every pod of the namespaces %s, or the pods %s of namespace %s; hint: to mean pods %s "
	    "in namespaces %s write ONE entry, `- namespaceSelector: ...` with `podSelector: ...` "
	    "on the next line without a dash",
	    list, a, ns_s, list, b, pod_s, ns_s, pod_s, p->ns, pod_s, ns_s);
	free(path);
	free(pod_s);
	free(ns_s);
}

struct peer_ctx {
	const struct lint *l;
	const struct npd_policy *p;
	const struct npd_peer *peer;
};

static bool
peer_pred(const struct npd_pod *pod, const void *vctx)
{
	const struct peer_ctx *c = vctx;

	return npd_sim_peer_matches(c->l->s, c->p, c->peer, pod, pod->n_ips ? &pod->ips[0] : NULL);
}

/* Check 4: a selector peer that selects no namespace or no pod. */
static void
check_peer_selects(struct lint *l, const struct npd_policy *p, const struct npd_peer *pe,
		   const char *path)
{
	struct peer_ctx c = {l, p, pe};
	const char *const *names;
	size_t nn = 0, i, n_ns = 0;
	char *ns_s, *pod_s;

	if (pe->kind != NPD_PEER_SELECTOR || !l->have_pods)
		return;
	ns_s = sel_text(&pe->ns_sel);
	pod_s = sel_text(&pe->pod_sel);
	if (pe->has_ns_sel) {
		names = npd_store_ns_names(l->s, &nn);
		for (i = 0; i < nn; i++)
			n_ns += npd_sim_ns_matches(l->s, &pe->ns_sel, names[i]);
		if (n_ns == 0) {
			warn(l, p, path,
			     "namespaceSelector %s matches no namespace; hint: label the namespace "
			     "(kubectl label ns NAME key=value) or select it by "
			     "kubernetes.io/metadata.name",
			     ns_s);
			goto out;
		}
	}
	if (count_pods(l, peer_pred, &c, NULL) == 0) {
		if (pe->has_ns_sel)
			warn(l, p, path,
			     "peer (namespaceSelector %s, podSelector %s) matches no running pod; "
			     "hint: compare with the pods' labels (kubectl get pods -A "
			     "--show-labels)",
			     ns_s, pod_s);
		else
			warn(l, p, path,
			     "podSelector %s matches no running pod of namespace %s (without a "
			     "namespaceSelector it selects only the policy's own namespace); hint: "
			     "add a namespaceSelector to the same entry to select pods of other "
			     "namespaces, or fix the labels",
			     pod_s, p->ns);
	}
out:
	free(pod_s);
	free(ns_s);
}

/* Check 6: except entries must lie inside their cidr. */
static void
check_except(struct lint *l, const struct npd_policy *p, const struct npd_peer *pe,
	     const char *peer_path)
{
	char cb[NPD_CIDRSTRLEN], eb[NPD_CIDRSTRLEN];
	size_t i;

	if (pe->kind != NPD_PEER_IPBLOCK)
		return;
	for (i = 0; i < pe->n_except; i++) {
		char *path;

		if (npd_cidr_covers(&pe->cidr, &pe->except[i]))
			continue;
		path = npd_xasprintf("%s.ipBlock.except[%zu]", peer_path, i);
		npd_cidr_format(&pe->cidr, cb);
		npd_cidr_format(&pe->except[i], eb);
		warn(l, p, path,
		     "except %s lies outside cidr %s, so it excludes nothing; hint: list only "
		     "sub-ranges of %s in except, or add a separate ipBlock for %s",
		     eb, cb, cb, eb);
		free(path);
	}
}

struct named_ctx {
	const struct lint *l;
	const struct npd_policy *p;
	const struct npd_policy_rule *r;
	bool egress;
	const char *name;
	enum npd_proto proto;
	bool need_port; /* only count pods defining the named port */
};

/* A destination of the rule: for ingress a pod the policy selects, for egress a pod its
 * peers match. */
static bool
dest_pred(const struct npd_pod *pod, const void *vctx)
{
	const struct named_ctx *c = vctx;
	uint16_t num;
	bool dest = false;
	size_t i;

	if (!npd_pod_is_selectable(pod))
		return false;
	if (!c->egress) {
		dest = !strcmp(pod->ns, c->p->ns) &&
		       npd_selector_matches(&c->p->pod_sel, &pod->labels);
	} else {
		dest = c->r->n_peers == 0;
		for (i = 0; !dest && i < c->r->n_peers; i++)
			dest =
			    npd_sim_peer_matches(c->l->s, c->p, &c->r->peers[i], pod, &pod->ips[0]);
	}
	if (!dest || !c->need_port)
		return dest;
	return npd_pod_find_named_port(pod, c->name, c->proto, &num) == 0;
}

/* Check 5: a named port no destination pod defines matches nothing. */
static void
check_named_ports(struct lint *l, const struct npd_policy *p, const struct npd_policy_rule *r,
		  bool egress, size_t ri)
{
	struct named_ctx c = {l, p, r, egress, NULL, NPD_PROTO_TCP, false};
	size_t i, n_dest;

	if (!l->have_pods)
		return;
	for (i = 0; i < r->n_ports; i++) {
		char *path;

		if (!r->ports[i].name)
			continue;
		c.name = r->ports[i].name;
		c.proto = r->ports[i].proto;
		c.need_port = false;
		n_dest = count_pods(l, dest_pred, &c, NULL);
		/* An ingress policy that selects no pod is check 3's finding already. */
		if (!egress && n_dest == 0)
			continue;
		c.need_port = true;
		if (count_pods(l, dest_pred, &c, NULL) > 0)
			continue;
		path = npd_xasprintf("spec.%s[%zu].ports[%zu].port", egress ? "egress" : "ingress",
				     ri, i);
		warn(l, p, path,
		     "named port \"%s\"/%s is defined by none of the %zu destination pod(s), so it "
		     "matches nothing (named ports resolve at the destination pod); hint: name the "
		     "containerPort \"%s\" in the destination pods or use the port number",
		     c.name, npd_proto_name(c.proto), n_dest, c.name);
		free(path);
	}
}

static void
check_rules(struct lint *l, const struct npd_policy *p, bool egress)
{
	const struct npd_policy_rule *rules = egress ? p->egress : p->ingress;
	size_t nr = egress ? p->n_egress : p->n_ingress, i, j;
	const char *dir = egress ? "egress" : "ingress", *list = egress ? "to" : "from";

	for (i = 0; i < nr; i++) {
		check_one_dash(l, p, &rules[i], dir, list, i);
		for (j = 0; j < rules[i].n_peers; j++) {
			char *path = npd_xasprintf("spec.%s[%zu].%s[%zu]", dir, i, list, j);

			check_peer_selects(l, p, &rules[i].peers[j], path);
			check_except(l, p, &rules[i].peers[j], path);
			free(path);
		}
		check_named_ports(l, p, &rules[i], egress, i);
	}
}

struct sel_ctx {
	const char *ns;
	const struct npd_selector *sel;
};

static bool
selected_pred(const struct npd_pod *pod, const void *vctx)
{
	const struct sel_ctx *c = vctx;

	return !strcmp(pod->ns, c->ns) && npd_selector_matches(c->sel, &pod->labels);
}

/* Check 3: a podSelector that selects nothing. */
static void
check_selects_pods(struct lint *l, const struct npd_policy *p)
{
	struct sel_ctx c = {p->ns, &p->pod_sel};
	char *sel;

	if (!l->have_pods || count_pods(l, selected_pred, &c, NULL) > 0)
		return;
	sel = sel_text(&p->pod_sel);
	warn(l, p, "spec.podSelector",
	     "podSelector %s selects no pod of namespace %s in the loaded manifests; hint: "
	     "compare with the pods' labels (kubectl get pods -n %s --show-labels) and remember "
	     "the policy applies only in its own namespace",
	     sel, p->ns, p->ns);
	free(sel);
}

/* Whether port entry pe could admit DNS over proto: a named port counts when some pod
 * defines it as 53. */
static bool
port_is_dns(const struct lint *l, const struct npd_port *pe, enum npd_proto proto)
{
	const char *const *names;
	size_t nn = 0, i, j, np;
	uint16_t num;

	if (pe->proto != proto)
		return false;
	if (!pe->has_port)
		return true;
	if (!pe->name)
		return pe->end_port ? pe->port <= 53 && pe->end_port >= 53 : pe->port == 53;
	names = npd_store_ns_names(l->s, &nn);
	for (i = 0; i < nn; i++) {
		const struct npd_pod *const *pods = npd_store_pods_in(l->s, names[i], &np);

		for (j = 0; j < np; j++)
			if (npd_pod_find_named_port(pods[j], pe->name, proto, &num) == 0 &&
			    num == 53)
				return true;
	}
	return false;
}

/* Whether pod, isolated for egress in its namespace, lacks DNS. A pod allowed no egress at
 * all by policies that single it out (a non-empty podSelector) is a deliberate lockdown
 * (the AKS db pod), not the default-deny trap, and is left alone. */
static bool
pod_lacks_dns(const struct lint *l, const struct npd_pod *pod)
{
	const struct npd_policy *const *pols;
	bool udp = false, tcp = false, isolated = false, any_rule = false, broad = false;
	size_t n = 0, i, j, k;

	pols = npd_store_policies_in(l->s, pod->ns, &n);
	for (i = 0; i < n; i++) {
		const struct npd_policy *p = pols[i];

		if (!p->isolates_egress || !npd_selector_matches(&p->pod_sel, &pod->labels))
			continue;
		isolated = true;
		broad |= npd_selector_is_empty(&p->pod_sel);
		if (p->invalid)
			continue;
		for (j = 0; j < p->n_egress; j++) {
			const struct npd_policy_rule *r = &p->egress[j];

			any_rule = true;
			if (r->n_ports == 0)
				udp = tcp = true;
			for (k = 0; k < r->n_ports; k++) {
				udp |= port_is_dns(l, &r->ports[k], NPD_PROTO_UDP);
				tcp |= port_is_dns(l, &r->ports[k], NPD_PROTO_TCP);
			}
		}
	}
	if (!isolated || (udp && tcp))
		return false;
	return any_rule || broad;
}

/* Check 2: egress isolation without DNS, once per policy isolating such pods. */
static void
check_dns(struct lint *l, const struct npd_policy *p)
{
	const struct npd_pod *const *pods;
	const struct npd_pod *example = NULL;
	size_t np = 0, i, n = 0;

	if (!p->isolates_egress)
		return;
	pods = npd_store_pods_in(l->s, p->ns, &np);
	for (i = 0; i < np; i++) {
		if (!npd_pod_is_selectable(pods[i]) ||
		    !npd_selector_matches(&p->pod_sel, &pods[i]->labels) ||
		    !pod_lacks_dns(l, pods[i]))
			continue;
		if (!example)
			example = pods[i];
		n++;
	}
	if (n == 0)
		return;
	warn(l, p, "spec.policyTypes",
	     "isolates egress of %zu pod(s) (e.g. %s/%s) and no egress rule of the policies "
	     "selecting them allows DNS on both UDP and TCP port 53, so name resolution fails; "
	     "hint: add an egress rule `to: [{namespaceSelector: {matchLabels: "
	     "{kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: "
	     "kube-dns}}}]` with ports 53/UDP and 53/TCP",
	     n, example->ns, example->name);
}

size_t
npd_lint_run(const struct npd_store *s, struct npd_diags *d)
{
	struct lint l = {s, d, 0, false};
	const char *const *names;
	size_t nn = 0, i, j, np;

	l.have_pods = count_pods(&l, any_pod, NULL, NULL) > 0;
	names = npd_store_ns_names(s, &nn);
	for (i = 0; i < nn; i++) {
		const struct npd_policy *const *pols = npd_store_policies_in(s, names[i], &np);

		for (j = 0; j < np; j++) {
			check_selects_pods(&l, pols[j]);
			check_rules(&l, pols[j], false);
			check_rules(&l, pols[j], true);
			check_dns(&l, pols[j]);
		}
	}
	return l.n;
}
