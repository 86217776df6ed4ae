/* store.h: the single owner of model objects, with the indexes the compiler and the
 * simulator need (objects by namespace, pods by label, pods by IP). Not thread-safe.
 * Everything returned by a getter is borrowed and valid until the next change. */
#ifndef NPD_STORE_H
#define NPD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/map.h"
#include "npd/model.h"

struct npd_store;

struct npd_store *npd_store_new(void);
void npd_store_free(struct npd_store *s);

/* Add or replace by namespace/name, taking ownership of the object. Return 1 when the
 * store changed in a way policy can see, 0 when the new object is equivalent for policy
 * purposes (a status-only update), never an error. An equivalent pod or policy is freed at
 * once and the stored one stays (taking the pod's phase), so a pointer the store handed
 * out stays valid until a change is logged for that object. */
int npd_store_add_namespace(struct npd_store *s, struct npd_namespace *ns);
int npd_store_add_pod(struct npd_store *s, struct npd_pod *pod);
int npd_store_add_policy(struct npd_store *s, struct npd_policy *pol);
/* Takes ownership of the object in o (o is left empty). */
int npd_store_add_object(struct npd_store *s, struct npd_object *o);
/* Deletes kind ns/name (ns NULL for namespaces). Returns 1 if it existed, else 0. */
int npd_store_del(struct npd_store *s, enum npd_kind kind, const char *ns, const char *name);
/* Applies an ADDED/MODIFIED/DELETED event, consuming its object; BOOKMARK and ERROR are
 * ignored (returning 0). Returns 1 when policy-visible state changed. */
int npd_store_apply(struct npd_store *s, struct npd_event *ev);
/* npd_store_apply as an npd_event_fn: applies ev to the store ctx, ignoring the result, and
 * releases what is left of the event; for decoders whose events only fill a store. */
void npd_store_apply_event(struct npd_event *ev, void *ctx);
/* npd_store_apply for an event of a list response: the object it adds, or finds unchanged,
 * is marked as held by that list, numbered list (> 0, a new number for each list started
 * from scratch), so that npd_store_del_unlisted can delete what the list did not hold.
 * A mark is a field of the object: no per-object key is kept while a list streams. A
 * plain npd_store_apply keeps the mark the object had. */
int npd_store_apply_listed(struct npd_store *s, struct npd_event *ev, uint32_t list);
/* Deletes every object of kind not marked by the list numbered list (once it is
 * complete, so deletions during a gap disappear). Returns how many were deleted. */
size_t npd_store_del_unlisted(struct npd_store *s, enum npd_kind kind, uint32_t list);

/* One policy-visible change, as the change log records it: the object's identity and, for
 * a pod, the addresses it held before (the new ones are the store's). */
struct npd_store_change {
	enum npd_kind kind;
	char *ns; /* NULL for a namespace */
	char *name;
	struct npd_addr *old_ips;
	size_t n_old_ips;
};

/* The changes since the log was last cleared, oldest first. base_gen is the generation
 * the first of them started from; overflow says changes were dropped (more than
 * NPD_STORE_LOG_MAX, or the log was just enabled), so a consumer must start over. */
struct npd_store_log {
	struct npd_store_change *v;
	size_t n, cap;
	uint64_t base_gen;
	bool overflow;
};

#define NPD_STORE_LOG_MAX 4096

/* Starts recording changes or stops and drops the record; either way the log is then in
 * overflow (what came before, or what comes, is unknown) until the next clear. Off (and
 * in overflow) at first, so a store nobody drains does not grow. */
void npd_store_log_enable(struct npd_store *s, bool on);
/* The log, borrowed, valid until the next change or clear. */
const struct npd_store_log *npd_store_log_get(const struct npd_store *s);
/* Empties the log: base_gen the current generation, overflow cleared if recording. */
void npd_store_log_clear(struct npd_store *s);

/* Bumped on every policy-visible change. */
uint64_t npd_store_generation(const struct npd_store *s);
size_t npd_store_count(const struct npd_store *s, enum npd_kind kind);

const struct npd_namespace *npd_store_get_namespace(const struct npd_store *s, const char *name);
const struct npd_pod *npd_store_get_pod(const struct npd_store *s, const char *ns,
					const char *name);
const struct npd_policy *npd_store_get_policy(const struct npd_store *s, const char *ns,
					      const char *name);

/* Namespace names known from Namespace objects, pods or policies, sorted. n set to count. */
const char *const *npd_store_ns_names(const struct npd_store *s, size_t *n);
/* Pods or policies of one namespace, sorted by name; NULL with *n = 0 when none. */
const struct npd_pod *const *npd_store_pods_in(const struct npd_store *s, const char *ns,
					       size_t *n);
const struct npd_policy *const *npd_store_policies_in(const struct npd_store *s, const char *ns,
						      size_t *n);
/* The labels a namespace selector sees for namespace ns: its Namespace's, or only
 * kubernetes.io/metadata.name while the object is unknown; NULL when nothing lives there. */
const struct npd_labels *npd_store_ns_labels(const struct npd_store *s, const char *ns);
/* Pods carrying label key=value, in no particular order. */
const struct npd_pod *const *npd_store_pods_with_label(const struct npd_store *s, const char *key,
						       const char *value, size_t *n);
/* The selectable pod (npd_pod_is_selectable) that has address a, or NULL. When two claim
 * it (an IP reused before the old pod's deletion arrived) the most recently added wins. */
const struct npd_pod *npd_store_pod_by_ip(const struct npd_store *s, const struct npd_addr *a);

/* Calls fn for every pod whose namespace matches ns_sel (NULL: only namespace ns_only)
 * and whose labels match pod_sel (NULL: all), using the label index when it helps.
 * Visits in no particular order. */
typedef void (*npd_store_pod_fn)(const struct npd_pod *pod, void *ctx);
void npd_store_select_pods(const struct npd_store *s, const struct npd_selector *ns_sel,
			   const char *ns_only, const struct npd_selector *pod_sel,
			   npd_store_pod_fn fn, void *ctx);

#endif
