/* store_int.h: the store's private structures, shared by store.c (objects, buckets, the
 * generation) and store_index.c (the label and IP indexes and selection). Private to lib/. */
#ifndef NPD_STORE_INT_H
#define NPD_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "npd/intern.h"
#include "npd/map.h"
#include "npd/store.h"

/* Everything known about one namespace name: its object (if seen) and its pods and
 * policies, each kept sorted by name. */
struct npd_bucket {
	char *name;
	struct npd_namespace *ns;
	struct npd_labels fallback; /* labels to use while the Namespace object is unknown */
	struct npd_pod **pods;
	size_t n_pods, cap_pods;
	struct npd_policy **pols;
	size_t n_pols, cap_pols;
};

struct npd_postings {
	const struct npd_pod **v;
	size_t n, cap;
};

/* The IP index: slots name a pod and which of its addresses is the key, with the key's
 * hash (its low 32 bits), so a probe or a rehash reads the pod only on a likely match. */
struct npd_ipslot {
	const struct npd_pod *pod; /* NULL: empty */
	uint32_t idx;
	uint32_t hash;
};

struct npd_iptab {
	struct npd_ipslot *slots;
	size_t cap, len; /* cap a power of two or 0 */
};

struct npd_store {
	struct npd_map buckets; /* name -> struct npd_bucket */
	char **names;		/* sorted bucket names (borrowed from buckets) */
	size_t n_names, cap_names;
	struct npd_map labels; /* "key\x1fvalue" -> struct npd_postings */
	struct npd_iptab ips;  /* selectable pods' addresses */
	/* Address text -> how many selectable pods beyond the indexed one claim it (absent:
	 * none), so that a pod giving up an address looks for another claimant only when
	 * there is one: the search walks every pod. */
	struct npd_map contested;
	uint64_t gen;
	size_t counts[NPD_KIND__COUNT];
	struct npd_intern *strings; /* shared strings of stored pods and namespaces */
	bool log_on;
	struct npd_store_log log;
	uint32_t listing; /* while npd_store_apply_listed runs: its list's number, else 0 */
};

/* The bucket of namespace name (NULL name or unknown: NULL); borrowed. */
struct npd_bucket *npd_store_bucket(const struct npd_store *s, const char *name);
/* The labels a namespace selector sees for b: its Namespace's, or the fallback. */
const struct npd_labels *npd_store_bucket_labels(const struct npd_bucket *b);
/* Adds pod to (removes it from) the label index and, when selectable, the IP index. */
void npd_store_index_pod(struct npd_store *s, const struct npd_pod *pod);
void npd_store_unindex_pod(struct npd_store *s, const struct npd_pod *pod);

/* The pod whose address a is indexed, or NULL; (re)points pod->ips[idx] at pod; forgets a.
 * The slots borrow the pods' own addresses: unindex a pod before freeing it. */
const struct npd_pod *npd_iptab_get(const struct npd_iptab *t, const struct npd_addr *a);
void npd_iptab_set(struct npd_iptab *t, const struct npd_pod *pod, size_t idx);
void npd_iptab_del(struct npd_iptab *t, const struct npd_addr *a);
void npd_iptab_fini(struct npd_iptab *t);

/* Turns a decoded pod or namespace the store takes into its compact form in place (shared
 * strings interned in s->strings, the rest packed); such an object may be freed only with
 * the matching free below, never with npd_pod_free or npd_namespace_free. NULL frees
 * nothing. */
void npd_store_compact_pod(struct npd_store *s, struct npd_pod *pod);
void npd_store_pod_free(struct npd_store *s, struct npd_pod *pod);
void npd_store_compact_namespace(struct npd_store *s, struct npd_namespace *ns);
void npd_store_namespace_free(struct npd_store *s, struct npd_namespace *ns);
/* Records a change of kind ns/name in the log when it is on; old: the pod before it. */
void npd_store_log_add(struct npd_store *s, enum npd_kind kind, const char *ns, const char *name,
		       const struct npd_pod *old);
/* Frees what the log holds. */
void npd_store_log_fini(struct npd_store *s);

#endif
