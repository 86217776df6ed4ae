/* model.c: constructors, destructors and small queries of the object model. Knows the
 * Kubernetes syntax rules for label keys, values and port names; no policy semantics. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/mem.h"
#include "npd/model.h"
#include "sorted_int.h"

struct npd_namespace *
npd_namespace_new(void)
{
	return npd_xcalloc(1, sizeof(struct npd_namespace));
}

void
npd_namespace_free(struct npd_namespace *ns)
{
	if (!ns)
		return;
	free(ns->name);
	free(ns->uid);
	free(ns->rv);
	npd_labels_fini(&ns->labels);
	free(ns);
}

struct npd_pod *
npd_pod_new(void)
{
	return npd_xcalloc(1, sizeof(struct npd_pod));
}

void
npd_pod_free(struct npd_pod *pod)
{
	size_t i;

	if (!pod)
		return;
	free(pod->ns);
	free(pod->name);
	free(pod->uid);
	free(pod->rv);
	free(pod->node);
	npd_labels_fini(&pod->labels);
	free(pod->ips);
	for (i = 0; i < pod->n_ports; i++)
		free(pod->ports[i].name);
	free(pod->ports);
	free(pod);
}

struct npd_policy *
npd_policy_new(void)
{
	return npd_xcalloc(1, sizeof(struct npd_policy));
}

void
npd_policy_free(struct npd_policy *pol)
{
	size_t i;

	if (!pol)
		return;
	free(pol->ns);
	free(pol->name);
	free(pol->uid);
	free(pol->rv);
	npd_selector_fini(&pol->pod_sel);
	for (i = 0; i < pol->n_ingress; i++)
		npd_policy_rule_fini(&pol->ingress[i]);
	free(pol->ingress);
	for (i = 0; i < pol->n_egress; i++)
		npd_policy_rule_fini(&pol->egress[i]);
	free(pol->egress);
	free(pol->invalid_reason);
	free(pol);
}

void
npd_object_fini(struct npd_object *o)
{
	switch (o->kind) {
	case NPD_KIND_NAMESPACE:
		npd_namespace_free(o->u.ns);
		break;
	case NPD_KIND_POD:
		npd_pod_free(o->u.pod);
		break;
	case NPD_KIND_POLICY:
		npd_policy_free(o->u.policy);
		break;
	case NPD_KIND__COUNT:
		break;
	}
	o->u.ns = NULL;
}

void
npd_event_fini(struct npd_event *ev)
{
	npd_object_fini(&ev->obj);
	free(ev->rv);
	free(ev->reason);
	free(ev->message);
	ev->rv = ev->reason = ev->message = NULL;
}

void
npd_labels_fini(struct npd_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const char *
label_key(const void *item)
{
	return ((const struct npd_label *)item)->key;
}

/* Index of key, or of where it would be inserted (negative: -(pos+1)). */
static long
labels_search(const struct npd_labels *l, const char *key)
{
	return npd_sorted_find(l->v, l->n, sizeof(*l->v), label_key, key);
}

void
npd_labels_set(struct npd_labels *l, const char *key, const char *value)
{
	long i = labels_search(l, key);
	size_t pos;

	if (i >= 0) {
		free(l->v[i].value);
		l->v[i].value = npd_xstrdup(value);
		return;
	}
	pos = (size_t)(-i - 1);
	l->v = npd_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memmove(&l->v[pos + 1], &l->v[pos], (l->n - pos) * sizeof(*l->v));
	l->v[pos].key = npd_xstrdup(key);
	l->v[pos].value = npd_xstrdup(value);
	l->n++;
}

const char *
npd_labels_get(const struct npd_labels *l, const char *key)
{
	long i = labels_search(l, key);

	return i >= 0 ? l->v[i].value : NULL;
}

bool
npd_labels_equal(const struct npd_labels *a, const struct npd_labels *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) || strcmp(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

void
npd_labels_copy(struct npd_labels *dst, const struct npd_labels *src)
{
	size_t i;

	dst->n = src->n;
	dst->v = src->n ? npd_xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (i = 0; i < src->n; i++) {
		dst->v[i].key = npd_xstrdup(src->v[i].key);
		dst->v[i].value = npd_xstrdup(src->v[i].value);
	}
}

void
npd_selector_fini(struct npd_selector *s)
{
	size_t i, j;

	npd_labels_fini(&s->match_labels);
	for (i = 0; i < s->n_exprs; i++) {
		free(s->exprs[i].key);
		for (j = 0; j < s->exprs[i].n_values; j++)
			free(s->exprs[i].values[j]);
		free(s->exprs[i].values);
	}
	free(s->exprs);
	s->exprs = NULL;
	s->n_exprs = 0;
}

void
npd_peer_fini(struct npd_peer *p)
{
	npd_selector_fini(&p->pod_sel);
	npd_selector_fini(&p->ns_sel);
	free(p->except);
	p->except = NULL;
	p->n_except = 0;
}

void
npd_port_fini(struct npd_port *p)
{
	free(p->name);
	p->name = NULL;
}

void
npd_policy_rule_fini(struct npd_policy_rule *r)
{
	size_t i;

	for (i = 0; i < r->n_peers; i++)
		npd_peer_fini(&r->peers[i]);
	free(r->peers);
	for (i = 0; i < r->n_ports; i++)
		npd_port_fini(&r->ports[i]);
	free(r->ports);
	memset(r, 0, sizeof(*r));
}

const char *
npd_proto_name(enum npd_proto p)
{
	switch (p) {
	case NPD_PROTO_TCP:
		return "TCP";
	case NPD_PROTO_UDP:
		return "UDP";
	case NPD_PROTO_SCTP:
		return "SCTP";
	}
	return "?";
}

/* Index of s in names[0..n) (NULL entries are gaps), or -EINVAL: the parse half of every
 * name table here. */
static int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return (int)i;
	return -EINVAL;
}

int
npd_proto_parse(const char *s, enum npd_proto *out)
{
	static const char *const names[] = {
	    [NPD_PROTO_TCP] = "TCP", [NPD_PROTO_UDP] = "UDP", [NPD_PROTO_SCTP] = "SCTP"};
	int i = name_index(names, NPD_ARRAY_SIZE(names), s);

	if (i < 0)
		return i;
	*out = (enum npd_proto)i;
	return 0;
}

const char *
npd_kind_name(enum npd_kind k)
{
	switch (k) {
	case NPD_KIND_NAMESPACE:
		return "Namespace";
	case NPD_KIND_POD:
		return "Pod";
	case NPD_KIND_POLICY:
		return "NetworkPolicy";
	case NPD_KIND__COUNT:
		break;
	}
	return "?";
}

static const char *const phase_names[] = {"Unknown", "Pending", "Running", "Succeeded", "Failed"};

const char *
npd_phase_name(enum npd_pod_phase p)
{
	return (unsigned)p < NPD_ARRAY_SIZE(phase_names) ? phase_names[p] : "Unknown";
}

int
npd_phase_parse(const char *s, enum npd_pod_phase *out)
{
	int i = name_index(phase_names, NPD_ARRAY_SIZE(phase_names), s);

	if (i < 0)
		return i;
	*out = (enum npd_pod_phase)i;
	return 0;
}

static const char *const event_names[] = {[NPD_EV_ADDED] = "ADDED",
					  [NPD_EV_MODIFIED] = "MODIFIED",
					  [NPD_EV_DELETED] = "DELETED",
					  [NPD_EV_BOOKMARK] = "BOOKMARK",
					  [NPD_EV_ERROR] = "ERROR"};

const char *
npd_event_type_name(enum npd_event_type t)
{
	return (unsigned)t < NPD_ARRAY_SIZE(event_names) ? event_names[t] : "?";
}

int
npd_event_type_parse(const char *s, enum npd_event_type *out)
{
	int i = name_index(event_names, NPD_ARRAY_SIZE(event_names), s);

	if (i < 0)
		return i;
	*out = (enum npd_event_type)i;
	return 0;
}

const char *
npd_object_ns(const struct npd_object *o)
{
	if (!o->u.ns)
		return NULL;
	switch (o->kind) {
	case NPD_KIND_POD:
		return o->u.pod->ns;
	case NPD_KIND_POLICY:
		return o->u.policy->ns;
	case NPD_KIND_NAMESPACE:
	case NPD_KIND__COUNT:
		break;
	}
	return NULL;
}

const char *
npd_object_name(const struct npd_object *o)
{
	if (!o->u.ns)
		return NULL;
	switch (o->kind) {
	case NPD_KIND_NAMESPACE:
		return o->u.ns->name;
	case NPD_KIND_POD:
		return o->u.pod->name;
	case NPD_KIND_POLICY:
		return o->u.policy->name;
	case NPD_KIND__COUNT:
		break;
	}
	return NULL;
}

bool
npd_pod_is_selectable(const struct npd_pod *pod)
{
	return pod->n_ips > 0 && !pod->host_network && pod->phase != NPD_PHASE_SUCCEEDED &&
	       pod->phase != NPD_PHASE_FAILED;
}

bool
npd_peer_block_contains(const struct npd_peer *peer, const struct npd_addr *a)
{
	size_t i;

	if (!npd_cidr_contains(&peer->cidr, a))
		return false;
	for (i = 0; i < peer->n_except; i++)
		if (npd_cidr_contains(&peer->except[i], a))
			return false;
	return true;
}

int
npd_pod_find_named_port(const struct npd_pod *pod, const char *name, enum npd_proto proto,
			uint16_t *out)
{
	size_t i;

	for (i = 0; i < pod->n_ports; i++)
		if (pod->ports[i].name && pod->ports[i].proto == proto &&
		    !strcmp(pod->ports[i].name, name)) {
			*out = pod->ports[i].port;
			return 0;
		}
	return -ENOENT;
}

/* DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
static bool
is_dns_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return s[0] != '-' && s[n - 1] != '-';
}

/* DNS-1123 subdomain: DNS-1123 labels joined by '.', at most 253 in all. */
static bool
is_dns_subdomain(const char *s, size_t n)
{
	size_t start = 0, i;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!is_dns_label(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

bool
npd_is_dns_label(const char *s)
{
	return is_dns_label(s, strlen(s));
}

bool
npd_is_dns_subdomain(const char *s)
{
	return is_dns_subdomain(s, strlen(s));
}

/* Qualified name part: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63. */
static bool
is_name_part(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!(isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

bool
npd_is_label_key(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash)
		return is_name_part(s, strlen(s));
	return is_dns_subdomain(s, (size_t)(slash - s)) &&
	       is_name_part(slash + 1, strlen(slash + 1));
}

bool
npd_is_label_value(const char *s)
{
	size_t n = strlen(s);

	return n == 0 || is_name_part(s, n);
}

bool
npd_is_port_name(const char *s)
{
	size_t n = strlen(s), i;
	bool letter = false;

	/* IANA_SVC_NAME: 1-15 lowercase alphanumerics or '-', a letter somewhere, no '--',
	 * not starting or ending with '-'. */
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			letter = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
		if (s[i] == '-' && i + 1 < n && s[i + 1] == '-')
			return false;
	}
	return letter;
}
