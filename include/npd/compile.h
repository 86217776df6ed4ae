/* compile.h: the compiler: store + node name -> desired ruleset. Pure: no I/O, no clock,
 * no globals; the same input gives byte-identical output. Semantics follow the
 * Kubernetes NetworkPolicy reference exactly; where this and the simulator disagree, one
 * of them has a bug (check_differential compares them on random worlds). */
#ifndef NPD_COMPILE_H
#define NPD_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/diag.h"
#include "npd/ruleset.h"
#include "npd/store.h"

struct npd_compile_opts {
	const char *node_name; /* pods with spec.nodeName == node_name are local */
	uint32_t mark;	       /* the single mark bit that means "allowed"; default 0x10000 */
	uint16_t nflog_group;  /* default 100 */
	uint32_t log_per_sec;  /* NFLOG rate limit per pod chain; default 10, 0 disables */
	uint32_t max_rules_per_policy; /* a policy compiling to more is skipped; default 4096 */
	uint32_t max_set_members;      /* a policy whose peers need a bigger set is skipped; default
				   * NPD_LIMIT_SET_MEMBERS (limits.h) */
};

void npd_compile_opts_init(struct npd_compile_opts *o);

/* Compiles the store into a new sealed ruleset (*out, owned by the caller). Policies that
 * cannot be compiled are reported to d and skipped without widening access for the pods
 * they select (those pods stay isolated). Returns 0; -EINVAL only for bad opts. */
int npd_compile(const struct npd_store *s, const struct npd_compile_opts *o, struct npd_diags *d,
		struct npd_ruleset **out);

/* Incremental compile. A state (owned by the caller, no globals) keeps, between compiles
 * of one node, the members of every pod-derived set (per distinct peer selector, named
 * port and ipBlock-of-pods resolution) and the node's local pods, with indexes from label
 * pairs, namespaces and addresses to the sets an event can touch. Output is always
 * byte-identical to npd_compile of the same store. */
struct npd_compile_state;

struct npd_compile_state *npd_compile_state_new(void);
void npd_compile_state_free(struct npd_compile_state *st);
/* A full compile, as npd_compile, that also rebuilds st from s. Returns 0 or -EINVAL. */
int npd_compile_full(struct npd_compile_state *st, const struct npd_store *s,
		     const struct npd_compile_opts *o, struct npd_diags *d,
		     struct npd_ruleset **out);
/* Follows changes (the store's log since st last compiled it) and compiles, touching only
 * what they can change. -ESTALE, with st and *out untouched, when st cannot follow: never
 * built, another node, a log that overflowed or does not start at st's generation; the
 * caller then runs npd_compile_full. Else 0 or -EINVAL. */
int npd_compile_incr(struct npd_compile_state *st, const struct npd_store *s,
		     const struct npd_store_log *changes, const struct npd_compile_opts *o,
		     struct npd_diags *d, struct npd_ruleset **out);
/* The names of the sets whose entries the last compile through st may have changed
 * (borrowed, valid until the next compile); *all is true after a full compile: every set
 * may have. */
const char (*npd_compile_state_dirty_sets(const struct npd_compile_state *st, size_t *n,
					  bool *all))[NPD_SET_NAMELEN];
/* The addresses of the pods of the compiled node, as the last compile through st saw them,
 * in a new array (the caller frees it) of *n, sorted by npd_addr_cmp; NULL when none. */
struct npd_addr *npd_compile_state_node_addrs(const struct npd_compile_state *st, size_t *n);

#endif
