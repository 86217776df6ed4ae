/* store_index.c: the store's indexes: pods by label pair and by IP (a reused IP follows
 * the live pod that holds it; the table itself is store_ips.c's), and selection of the
 * pods a (namespace, pod) selector pair matches, driven by the rarest label pair so that
 * a peer never scans the whole cluster. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "npd/store.h"
#include "store_int.h"

const struct npd_labels *
npd_store_bucket_labels(const struct npd_bucket *b)
{
	return b->ns ? &b->ns->labels : &b->fallback;
}

const struct npd_labels *
npd_store_ns_labels(const struct npd_store *s, const char *ns)
{
	const struct npd_bucket *b = npd_store_bucket(s, ns);

	return b ? npd_store_bucket_labels(b) : NULL;
}

/* The label index's key of key=value, in b (reused from label to label: a pod's labels
 * are indexed at every add, and at 150k pods a formatted copy each was a visible share of
 * the start). */
static const char *
label_key(struct npd_buf *b, const char *key, const char *value)
{
	npd_buf_reset(b);
	npd_buf_adds(b, key);
	npd_buf_addc(b, '\x1f');
	npd_buf_adds(b, value);
	return b->data;
}

/* Adds d (+1 or -1) to the count of a's other claimants; returns whether it had one. */
static bool
contest(struct npd_store *s, const struct npd_addr *a, int d)
{
	char key[NPD_ADDRSTRLEN];

	return npd_map_count_add(&s->contested, npd_addr_format(a, key), d) > 0;
}

void
npd_store_index_pod(struct npd_store *s, const struct npd_pod *pod)
{
	struct npd_buf b;
	size_t i;

	npd_buf_init(&b);
	for (i = 0; i < pod->labels.n; i++) {
		const char *k = label_key(&b, pod->labels.v[i].key, pod->labels.v[i].value);
		struct npd_postings *p = npd_map_get(&s->labels, k);

		if (!p) {
			p = npd_xcalloc(1, sizeof(*p));
			npd_map_set(&s->labels, k, p);
		}
		npd_xgrow(&p->v, &p->cap, p->n + 1, sizeof(*p->v));
		p->v[p->n++] = pod;
	}
	npd_buf_fini(&b);
	if (!npd_pod_is_selectable(pod))
		return;
	for (i = 0; i < pod->n_ips; i++) {
		if (npd_iptab_get(&s->ips, &pod->ips[i]))
			contest(s, &pod->ips[i], 1);
		npd_iptab_set(&s->ips, pod, i);
	}
}

/* After a pod gives up an address that another live pod still claims: finds that one. */
static void
reclaim_ip(struct npd_store *s, const struct npd_addr *a)
{
	size_t i, j, k;

	for (i = 0; i < s->n_names; i++) {
		const struct npd_bucket *b = npd_store_bucket(s, s->names[i]);

		for (j = 0; j < b->n_pods; j++) {
			const struct npd_pod *p = b->pods[j];

			if (!npd_pod_is_selectable(p))
				continue;
			for (k = 0; k < p->n_ips; k++)
				if (!npd_addr_cmp(&p->ips[k], a)) {
					npd_iptab_set(&s->ips, p, k);
					return;
				}
		}
	}
}

void
npd_store_unindex_pod(struct npd_store *s, const struct npd_pod *pod)
{
	struct npd_buf b;
	size_t i, j;

	npd_buf_init(&b);
	for (i = 0; i < pod->labels.n; i++) {
		const char *k = label_key(&b, pod->labels.v[i].key, pod->labels.v[i].value);
		struct npd_postings *p = npd_map_get(&s->labels, k);

		for (j = 0; p && j < p->n; j++)
			if (p->v[j] == pod) {
				p->v[j] = p->v[--p->n];
				break;
			}
		if (p && p->n == 0) {
			npd_map_del(&s->labels, k);
			free(p->v);
			free(p);
		}
	}
	npd_buf_fini(&b);
	if (!npd_pod_is_selectable(pod))
		return; /* it claimed no address */
	for (i = 0; i < pod->n_ips; i++) {
		const struct npd_pod *owner = npd_iptab_get(&s->ips, &pod->ips[i]);

		if (owner == pod) {
			npd_iptab_del(&s->ips, &pod->ips[i]);
			if (contest(s, &pod->ips[i], -1))
				reclaim_ip(s, &pod->ips[i]);
		} else if (owner) {
			contest(s, &pod->ips[i], -1); /* it was one of the others */
		}
	}
}

const struct npd_pod *const *
npd_store_pods_with_label(const struct npd_store *s, const char *key, const char *value, size_t *n)
{
	struct npd_buf b;
	const struct npd_postings *p;

	npd_buf_init(&b);
	p = npd_map_get(&s->labels, label_key(&b, key, value));
	npd_buf_fini(&b);
	*n = p ? p->n : 0;
	return p ? p->v : NULL;
}

const struct npd_pod *
npd_store_pod_by_ip(const struct npd_store *s, const struct npd_addr *a)
{
	return npd_iptab_get(&s->ips, a);
}

void
npd_store_select_pods(const struct npd_store *s, const struct npd_selector *ns_sel,
		      const char *ns_only, const struct npd_selector *pod_sel, npd_store_pod_fn fn,
		      void *ctx)
{
	const struct npd_bucket *b;
	size_t i, j;

	if (!ns_sel) {
		b = npd_store_bucket(s, ns_only);
		for (j = 0; b && j < b->n_pods; j++)
			if (!pod_sel || npd_selector_matches(pod_sel, &b->pods[j]->labels))
				fn(b->pods[j], ctx);
		return;
	}
	if (pod_sel && pod_sel->match_labels.n) {
		/* The rarest matchLabels pair bounds the candidates; use it only when it is
		 * shorter than the pods of the namespaces the namespace selector picks. */
		const struct npd_pod *const *best = NULL;
		size_t n_best = SIZE_MAX, in_ns = 0;
		const struct npd_bucket *last = NULL;

		for (i = 0; i < pod_sel->match_labels.n; i++) {
			size_t n;
			const struct npd_pod *const *v =
			    npd_store_pods_with_label(s, pod_sel->match_labels.v[i].key,
						      pod_sel->match_labels.v[i].value, &n);

			if (n < n_best) {
				best = v;
				n_best = n;
			}
		}
		for (i = 0; i < s->n_names && in_ns < n_best; i++) {
			b = npd_store_bucket(s, s->names[i]);
			if (b->n_pods && npd_selector_matches(ns_sel, npd_store_bucket_labels(b)))
				in_ns += b->n_pods;
		}
		if (in_ns < n_best)
			goto by_namespace;
		for (j = 0; j < n_best; j++) {
			const struct npd_pod *p = best[j];

			if (!last || strcmp(last->name, p->ns))
				last = npd_store_bucket(s, p->ns);
			if (npd_selector_matches(ns_sel, npd_store_bucket_labels(last)) &&
			    npd_selector_matches(pod_sel, &p->labels))
				fn(p, ctx);
		}
		return;
	}
by_namespace:
	for (i = 0; i < s->n_names; i++) {
		b = npd_store_bucket(s, s->names[i]);
		if (!b->n_pods || !npd_selector_matches(ns_sel, npd_store_bucket_labels(b)))
			continue;
		for (j = 0; j < b->n_pods; j++)
			if (!pod_sel || npd_selector_matches(pod_sel, &b->pods[j]->labels))
				fn(b->pods[j], ctx);
	}
}
