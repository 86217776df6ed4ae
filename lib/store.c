/* store.c: the single owner of namespaces, pods and policies, kept per namespace and sorted
 * by name; the label and IP indexes and selection are store_index.c's. It knows which
 * fields policy can see, so a status-only pod update is not a change. It does no I/O and
 * keeps no clock. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "npd/store.h"
#include "sorted_int.h"
#include "store_int.h"

struct npd_store *
npd_store_new(void)
{
	struct npd_store *s = npd_xcalloc(1, sizeof(*s));

	npd_map_init(&s->buckets);
	npd_map_init(&s->labels);
	npd_map_init(&s->contested);
	s->strings = npd_intern_new();
	s->log.overflow = true; /* not recording */
	return s;
}

static void
bucket_free(struct npd_store *s, struct npd_bucket *b)
{
	size_t i;

	for (i = 0; i < b->n_pods; i++)
		npd_store_pod_free(s, b->pods[i]);
	for (i = 0; i < b->n_pols; i++)
		npd_policy_free(b->pols[i]);
	free(b->pods);
	free(b->pols);
	npd_store_namespace_free(s, b->ns);
	npd_labels_fini(&b->fallback);
	free(b->name);
	free(b);
}

static void
postings_free(void *v)
{
	struct npd_postings *p = v;

	free(p->v);
	free(p);
}

void
npd_store_free(struct npd_store *s)
{
	size_t it = 0;
	void *v;

	if (!s)
		return;
	while (npd_map_next(&s->buckets, &it, NULL, &v))
		bucket_free(s, v);
	npd_map_fini(&s->buckets);
	npd_map_clear(&s->labels, postings_free);
	npd_iptab_fini(&s->ips);
	npd_map_fini(&s->contested);
	npd_store_log_fini(s);
	free(s->names);
	npd_intern_free(s->strings);
	free(s);
}

static const char *
pod_key(const void *item)
{
	return (*(const struct npd_pod *const *)item)->name;
}

static const char *
pol_key(const void *item)
{
	return (*(const struct npd_policy *const *)item)->name;
}

/* Binary searches by name; each returns the index or -(insertion point)-1. */
static long
search_names(char *const *v, size_t n, const char *name)
{
	return npd_sorted_find(v, n, sizeof(*v), npd_sorted_str, name);
}

static long
search_pods(struct npd_pod *const *v, size_t n, const char *name)
{
	return npd_sorted_find(v, n, sizeof(*v), pod_key, name);
}

static long
search_pols(struct npd_policy *const *v, size_t n, const char *name)
{
	return npd_sorted_find(v, n, sizeof(*v), pol_key, name);
}

struct npd_bucket *
npd_store_bucket(const struct npd_store *s, const char *name)
{
	return name ? npd_map_get(&s->buckets, name) : NULL;
}

static struct npd_bucket *
bucket_ensure(struct npd_store *s, const char *name)
{
	struct npd_bucket *b = npd_store_bucket(s, name);
	long i;
	size_t pos;

	if (b)
		return b;
	b = npd_xcalloc(1, sizeof(*b));
	b->name = npd_xstrdup(name);
	/* Until the Namespace object arrives, the API server's own label is all it has. */
	npd_labels_set(&b->fallback, "kubernetes.io/metadata.name", name);
	npd_map_set(&s->buckets, name, b);
	i = search_names(s->names, s->n_names, name);
	pos = (size_t)(-i - 1);
	npd_xgrow(&s->names, &s->cap_names, s->n_names + 1, sizeof(*s->names));
	memmove(&s->names[pos + 1], &s->names[pos], (s->n_names - pos) * sizeof(*s->names));
	s->names[pos] = b->name;
	s->n_names++;
	return b;
}

static void
bucket_maybe_drop(struct npd_store *s, struct npd_bucket *b)
{
	long i;

	if (b->ns || b->n_pods || b->n_pols)
		return;
	i = search_names(s->names, s->n_names, b->name);
	if (i >= 0) {
		memmove(&s->names[i], &s->names[i + 1],
			(s->n_names - (size_t)i - 1) * sizeof(*s->names));
		s->n_names--;
	}
	npd_map_del(&s->buckets, b->name);
	bucket_free(s, b);
}

static bool
ports_equal(const struct npd_pod *a, const struct npd_pod *b)
{
	size_t i;

	if (a->n_ports != b->n_ports)
		return false;
	for (i = 0; i < a->n_ports; i++) {
		const struct npd_container_port *x = &a->ports[i], *y = &b->ports[i];

		if (x->port != y->port || x->proto != y->proto || !x->name != !y->name ||
		    (x->name && strcmp(x->name, y->name)))
			return false;
	}
	return true;
}

static bool
str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether two versions of a pod differ in anything the compiler or simulator reads. */
static bool
pod_visible_change(const struct npd_pod *a, const struct npd_pod *b)
{
	return !str_equal(a->uid, b->uid) || !str_equal(a->node, b->node) ||
	       a->host_network != b->host_network ||
	       npd_pod_is_selectable(a) != npd_pod_is_selectable(b) || a->n_ips != b->n_ips ||
	       (a->n_ips && memcmp(a->ips, b->ips, a->n_ips * sizeof(*a->ips))) ||
	       !npd_labels_equal(&a->labels, &b->labels) || !ports_equal(a, b);
}

/* Whether re-adding old as pod takes an address from another pod: the newest claim wins,
 * so even a status-only update of the older of two pods sharing a reused IP moves it. */
static bool
takes_ip(const struct npd_store *s, const struct npd_pod *old, const struct npd_pod *pod)
{
	size_t i;

	if (!npd_pod_is_selectable(pod))
		return false;
	for (i = 0; i < pod->n_ips; i++)
		if (npd_store_pod_by_ip(s, &pod->ips[i]) != old)
			return true;
	return false;
}

int
npd_store_add_pod(struct npd_store *s, struct npd_pod *pod)
{
	struct npd_bucket *b = bucket_ensure(s, pod->ns);
	long i = search_pods(b->pods, b->n_pods, pod->name);
	int changed;

	if (i >= 0) {
		struct npd_pod *old = b->pods[i];

		changed = pod_visible_change(old, pod) || takes_ip(s, old, pod);
		if (!changed) {
			/* The stored pod stays, so what the compiler keeps of it stays valid; the
			 * phase is the only field that can differ and is still shown. */
			old->phase = pod->phase;
			if (s->listing)
				old->listed = s->listing;
			npd_pod_free(pod);
			return 0;
		}
		npd_store_compact_pod(s, pod);
		pod->listed = s->listing ? s->listing : old->listed;
		npd_store_log_add(s, NPD_KIND_POD, pod->ns, pod->name, old);
		/* Out of the array before unindexing, so reclaim_ip cannot pick the old one. */
		b->pods[i] = pod;
		npd_store_unindex_pod(s, old);
		npd_store_pod_free(s, old);
	} else {
		size_t pos = (size_t)(-i - 1);

		npd_store_compact_pod(s, pod);
		pod->listed = s->listing;
		npd_xgrow(&b->pods, &b->cap_pods, b->n_pods + 1, sizeof(*b->pods));
		memmove(&b->pods[pos + 1], &b->pods[pos], (b->n_pods - pos) * sizeof(*b->pods));
		b->pods[pos] = pod;
		b->n_pods++;
		s->counts[NPD_KIND_POD]++;
		npd_store_log_add(s, NPD_KIND_POD, pod->ns, pod->name, NULL);
	}
	npd_store_index_pod(s, pod);
	s->gen++;
	return 1;
}

int
npd_store_add_policy(struct npd_store *s, struct npd_policy *pol)
{
	struct npd_bucket *b = bucket_ensure(s, pol->ns);
	long i = search_pols(b->pols, b->n_pols, pol->name);

	if (i >= 0) {
		struct npd_policy *old = b->pols[i];
		/* Policy specs are compared by resourceVersion: the API server bumps it on every
		 * spec change, and files carry none, so a file reload always counts. */
		if (old->rv && pol->rv && !strcmp(old->rv, pol->rv)) {
			/* The same spec: the stored policy stays, as a pod does above. */
			if (s->listing)
				old->listed = s->listing;
			npd_policy_free(pol);
			return 0;
		}
		pol->listed = s->listing ? s->listing : old->listed;
		b->pols[i] = pol;
		npd_policy_free(old);
		npd_store_log_add(s, NPD_KIND_POLICY, pol->ns, pol->name, NULL);
		s->gen++;
		return 1;
	}
	pol->listed = s->listing;
	npd_xgrow(&b->pols, &b->cap_pols, b->n_pols + 1, sizeof(*b->pols));
	memmove(&b->pols[-i], &b->pols[-i - 1], (b->n_pols - (size_t)(-i - 1)) * sizeof(*b->pols));
	b->pols[-i - 1] = pol;
	b->n_pols++;
	s->counts[NPD_KIND_POLICY]++;
	npd_store_log_add(s, NPD_KIND_POLICY, pol->ns, pol->name, NULL);
	s->gen++;
	return 1;
}

int
npd_store_add_namespace(struct npd_store *s, struct npd_namespace *ns)
{
	struct npd_bucket *b = bucket_ensure(s, ns->name);
	int changed = 1;

	ns->listed = s->listing;
	if (b->ns) {
		changed = !npd_labels_equal(&b->ns->labels, &ns->labels);
		if (!s->listing)
			ns->listed = b->ns->listed;
		npd_store_namespace_free(s, b->ns);
	} else {
		changed = !npd_labels_equal(&b->fallback, &ns->labels);
		s->counts[NPD_KIND_NAMESPACE]++;
	}
	npd_store_compact_namespace(s, ns);
	b->ns = ns;
	if (changed) {
		npd_store_log_add(s, NPD_KIND_NAMESPACE, NULL, ns->name, NULL);
		s->gen++;
	}
	return changed;
}

int
npd_store_add_object(struct npd_store *s, struct npd_object *o)
{
	int rc = 0;

	switch (o->kind) {
	case NPD_KIND_NAMESPACE:
		rc = npd_store_add_namespace(s, o->u.ns);
		break;
	case NPD_KIND_POD:
		rc = npd_store_add_pod(s, o->u.pod);
		break;
	case NPD_KIND_POLICY:
		rc = npd_store_add_policy(s, o->u.policy);
		break;
	case NPD_KIND__COUNT:
		return 0;
	}
	o->u.ns = NULL;
	return rc;
}

int
npd_store_del(struct npd_store *s, enum npd_kind kind, const char *ns, const char *name)
{
	struct npd_bucket *b = npd_store_bucket(s, kind == NPD_KIND_NAMESPACE ? name : ns);
	long i;

	if (!b)
		return 0;
	switch (kind) {
	case NPD_KIND_NAMESPACE: {
		bool visible;

		if (!b->ns)
			return 0;
		visible = !npd_labels_equal(&b->ns->labels, &b->fallback);
		npd_store_namespace_free(s, b->ns);
		b->ns = NULL;
		s->counts[kind]--;
		if (visible) {
			npd_store_log_add(s, NPD_KIND_NAMESPACE, NULL, name, NULL);
			s->gen++;
		}
		bucket_maybe_drop(s, b);
		return 1;
	}
	case NPD_KIND_POD:
		i = search_pods(b->pods, b->n_pods, name);
		if (i < 0)
			return 0;
		{
			struct npd_pod *old = b->pods[i];

			memmove(&b->pods[i], &b->pods[i + 1],
				(b->n_pods - (size_t)i - 1) * sizeof(*b->pods));
			b->n_pods--;
			npd_store_log_add(s, NPD_KIND_POD, ns, name, old);
			npd_store_unindex_pod(s, old);
			npd_store_pod_free(s, old);
			break;
		}
	case NPD_KIND_POLICY:
		i = search_pols(b->pols, b->n_pols, name);
		if (i < 0)
			return 0;
		npd_store_log_add(s, NPD_KIND_POLICY, ns, name, NULL);
		npd_policy_free(b->pols[i]);
		memmove(&b->pols[i], &b->pols[i + 1],
			(b->n_pols - (size_t)i - 1) * sizeof(*b->pols));
		b->n_pols--;
		break;
	case NPD_KIND__COUNT:
		return 0;
	}
	s->counts[kind]--;
	s->gen++;
	bucket_maybe_drop(s, b);
	return 1;
}

int
npd_store_apply(struct npd_store *s, struct npd_event *ev)
{
	int rc = 0;

	switch (ev->type) {
	case NPD_EV_ADDED:
	case NPD_EV_MODIFIED:
		if (ev->obj.u.ns)
			rc = npd_store_add_object(s, &ev->obj);
		break;
	case NPD_EV_DELETED:
		if (ev->obj.u.ns)
			rc = npd_store_del(s, ev->obj.kind, npd_object_ns(&ev->obj),
					   npd_object_name(&ev->obj));
		npd_object_fini(&ev->obj);
		break;
	case NPD_EV_BOOKMARK:
	case NPD_EV_ERROR:
		break;
	}
	return rc;
}

void
npd_store_apply_event(struct npd_event *ev, void *ctx)
{
	npd_store_apply(ctx, ev);
	npd_event_fini(ev);
}

int
npd_store_apply_listed(struct npd_store *s, struct npd_event *ev, uint32_t list)
{
	int rc;

	s->listing = list;
	rc = npd_store_apply(s, ev);
	s->listing = 0;
	return rc;
}

/* The mark of kind's j-th object in b (the namespace itself for NPD_KIND_NAMESPACE). */
static uint32_t
listed_mark(const struct npd_bucket *b, enum npd_kind kind, size_t j)
{
	return kind == NPD_KIND_NAMESPACE ? b->ns->listed
	       : kind == NPD_KIND_POD	  ? b->pods[j]->listed
					  : b->pols[j]->listed;
}

size_t
npd_store_del_unlisted(struct npd_store *s, enum npd_kind kind, uint32_t list)
{
	/* Collect first: deleting while walking the sorted arrays would skip entries. */
	char **ns = NULL, **names = NULL;
	size_t n = 0, cap = 0, capn = 0, i, j, deleted = 0;

	for (i = 0; i < s->n_names; i++) {
		const struct npd_bucket *b = npd_store_bucket(s, s->names[i]);
		size_t count = kind == NPD_KIND_NAMESPACE ? (b->ns ? 1 : 0)
			       : kind == NPD_KIND_POD	  ? b->n_pods
							  : b->n_pols;

		for (j = 0; j < count; j++) {
			const char *name = kind == NPD_KIND_NAMESPACE ? b->name
					   : kind == NPD_KIND_POD     ? b->pods[j]->name
								      : b->pols[j]->name;

			if (listed_mark(b, kind, j) == list)
				continue;
			npd_xgrow(&ns, &cap, n + 1, sizeof(*ns));
			npd_xgrow(&names, &capn, n + 1, sizeof(*names));
			ns[n] = npd_xstrdup(b->name);
			names[n] = npd_xstrdup(name);
			n++;
		}
	}
	for (i = 0; i < n; i++) {
		deleted += (size_t)npd_store_del(s, kind, ns[i], names[i]);
		free(ns[i]);
		free(names[i]);
	}
	free(ns);
	free(names);
	return deleted;
}

uint64_t
npd_store_generation(const struct npd_store *s)
{
	return s->gen;
}

size_t
npd_store_count(const struct npd_store *s, enum npd_kind kind)
{
	return (unsigned)kind < NPD_KIND__COUNT ? s->counts[kind] : 0;
}

const struct npd_namespace *
npd_store_get_namespace(const struct npd_store *s, const char *name)
{
	const struct npd_bucket *b = npd_store_bucket(s, name);

	return b ? b->ns : NULL;
}

const struct npd_pod *
npd_store_get_pod(const struct npd_store *s, const char *ns, const char *name)
{
	const struct npd_bucket *b = npd_store_bucket(s, ns);
	long i;

	if (!b)
		return NULL;
	i = search_pods(b->pods, b->n_pods, name);
	return i >= 0 ? b->pods[i] : NULL;
}

const struct npd_policy *
npd_store_get_policy(const struct npd_store *s, const char *ns, const char *name)
{
	const struct npd_bucket *b = npd_store_bucket(s, ns);
	long i;

	if (!b)
		return NULL;
	i = search_pols(b->pols, b->n_pols, name);
	return i >= 0 ? b->pols[i] : NULL;
}

const char *const *
npd_store_ns_names(const struct npd_store *s, size_t *n)
{
	*n = s->n_names;
	return (const char *const *)s->names;
}

const struct npd_pod *const *
npd_store_pods_in(const struct npd_store *s, const char *ns, size_t *n)
{
	const struct npd_bucket *b = npd_store_bucket(s, ns);

	*n = b ? b->n_pods : 0;
	return b ? (const struct npd_pod *const *)b->pods : NULL;
}

const struct npd_policy *const *
npd_store_policies_in(const struct npd_store *s, const char *ns, size_t *n)
{
	const struct npd_bucket *b = npd_store_bucket(s, ns);

	*n = b ? b->n_pols : 0;
	return b ? (const struct npd_policy *const *)b->pols : NULL;
}
