/* compile.h: the compiler: store + node name -> desired ruleset. Pure: no I/O, no clock,
 * no globals; the same input gives byte-identical output. Semantics follow the
 * Kubernetes NetworkPolicy reference exactly; where this and the simulator disagree, one
 * of them has a bug (check_differential compares them on random worlds). */
#ifndef NPD_COMPILE_H
#define NPD_COMPILE_H

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
};

void npd_compile_opts_init(struct npd_compile_opts *o);

/* Compiles the store into a new sealed ruleset (*out, owned by the caller). Policies that
 * cannot be compiled are reported to d and skipped without widening access for the pods
 * they select (those pods stay isolated). Returns 0; -EINVAL only for bad opts. */
int npd_compile(const struct npd_store *s, const struct npd_compile_opts *o, struct npd_diags *d,
		struct npd_ruleset **out);

#endif
