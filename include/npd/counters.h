/* counters.h: the rule counter cache: kernel packet and byte counters of our rules, summed by
 * what an operator wrote (a policy's rule in one direction, or a local pod's default deny)
 * and kept across chain rewrites and agent restarts. Pure: the agent reads the kernel (on a
 * timer, before commits) and feeds each reading in; scrapes and explain only read the cache.
 *
 * Origins come from the compiled ruleset (npd_chain_rule_origin): a policy chain NPD-PI-/PE-
 * is shared by every local pod the policy selects, so its counters already sum over local
 * pods; the v4 and v6 chains sum into one total. A local pod's default deny is counted by
 * the entry of its address in a set with counters (its direction's isolated local pods):
 * the deny's rejects match that set again, and the store says which pod owns the address. */
#ifndef NPD_COUNTERS_H
#define NPD_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/buf.h"
#include "npd/differ.h"
#include "npd/ruleset.h"
#include "npd/store.h"

struct npd_counters;

/* One total of the cache, as npd_counters_each hands it out (strings borrowed). */
struct npd_counter_total {
	enum npd_origin_kind kind; /* NPD_ORIGIN_POLICY or NPD_ORIGIN_POD */
	enum npd_origin_dir dir;
	const char *ns, *name; /* the policy, or the pod */
	int32_t rule;	       /* POLICY: index in spec.ingress / spec.egress; POD: -1 */
	uint64_t packets, bytes;
	bool live; /* its rules are in the kernel now (false: frozen until the object goes) */
};

/* An empty cache (owned by the caller); npd_counters_free(NULL) is a no-op. */
struct npd_counters *npd_counters_new(void);
void npd_counters_free(struct npd_counters *c);

/* Feeds one rule of one kernel reading; its signature is an npd_counter_fn, ctx the cache.
 * The growth since the rule's previous reading is added to its origin's total; a counter
 * that went down (its rule was rewritten) counts from 0. Rules of unknown origin (plumbing,
 * or not yet committed) are ignored. */
void npd_counters_feed(uint8_t family, const char *chain, size_t index, uint64_t packets,
		       uint64_t bytes, void *c);

/* Feeds one entry of a counted set (struct npd_set.counters) of one kernel reading; its
 * signature is an npd_set_counter_fn, ctx the cache. As npd_counters_feed, for the total of
 * the pod that owned the entry's address at the last npd_counters_applied, in the direction
 * its set counts; entries the cache does not follow are ignored. */
void npd_counters_feed_set(const char *set, const struct npd_set_entry *e, uint64_t packets,
			   uint64_t bytes, void *c);

/* After a successful commit: rs (borrowed, not kept) is what the kernel now holds and plan
 * what the commit wrote (NULL: every chain and set was written). Chains written restart from
 * zero; every origin in rs gets a total (at 0 when new). So does every pod of s owning an
 * entry of a counted set of rs (NPD_ORIGIN_POD, the set's count_dir); an entry restarts from
 * zero when plan created its set, and one whose address now belongs to another pod counts
 * for that pod from its last reading on. A total whose
 * origin left rs is kept, frozen, while its policy (or pod) is still in s; it is dropped
 * when s is NULL or the object is gone, so the cache is bounded by what exists. */
void npd_counters_applied(struct npd_counters *c, const struct npd_ruleset *rs,
			  const struct npd_plan *plan, const struct npd_store *s);

/* The totals of one origin: 0 and *packets, *bytes; -ENOENT when the cache has none. rule
 * is the spec index for NPD_ORIGIN_POLICY and ignored for NPD_ORIGIN_POD. */
int npd_counters_get(const struct npd_counters *c, enum npd_origin_kind kind,
		     enum npd_origin_dir dir, const char *ns, const char *name, int32_t rule,
		     uint64_t *packets, uint64_t *bytes);

/* Calls fn with the name of every counted set the cache follows entries of, sorted. With
 * plan non-NULL, only those whose entry counters applying plan loses (the set destroyed or
 * created anew, or entries deleted that count for a pod s, the store plan was made from,
 * still holds: a pod gone takes its total along), so that a reading just before the apply
 * lists only them; s NULL: every deletion loses. fn may feed c (npd_counters_feed_set) but
 * not change what it follows. */
typedef void (*npd_counter_set_name_fn)(const char *set, void *ctx);
void npd_counters_each_set(const struct npd_counters *c, const struct npd_plan *plan,
			   const struct npd_store *s, npd_counter_set_name_fn fn, void *ctx);

/* Calls fn for every total, sorted (kind, namespace, name, direction, rule). */
typedef void (*npd_counter_total_fn)(const struct npd_counter_total *t, void *ctx);
void npd_counters_each(const struct npd_counters *c, npd_counter_total_fn fn, void *ctx);
/* Number of totals (so of exported series per counter family). */
size_t npd_counters_count(const struct npd_counters *c);

/* Appends netpold_policy_rule_packets_total, netpold_policy_rule_bytes_total and
 * netpold_pod_denied_packets_total with HELP and TYPE (HELP and TYPE also when empty). */
void npd_counters_format(const struct npd_counters *c, struct npd_buf *out);

/* The cache as text for a state file, so totals survive an agent restart: the totals and the
 * last reading of each kernel rule and counted set entry, one tab-separated line each. */
void npd_counters_save(const struct npd_counters *c, struct npd_buf *out);
/* Replaces the cache's content with what text (from npd_counters_save) holds. Returns the
 * number of lines taken; malformed lines are skipped. */
size_t npd_counters_load(struct npd_counters *c, const char *text);

#endif
