/* lint.h: warnings about NetworkPolicy pitfalls (netpolctl lint): the "one dash" OR that
 * reads like an AND, egress isolation that cuts DNS, selectors and named ports that match
 * nothing in the loaded manifests, ipBlock exceptions outside their CIDR. */
#ifndef NPD_LINT_H
#define NPD_LINT_H

#include <stddef.h>

#include "npd/diag.h"
#include "npd/store.h"

/* Checks every policy of s and appends one NPD_DIAG_LINT diagnostic per finding to d, its
 * msg reading "what is wrong; hint: what to write instead". Checks that compare selectors
 * with pods are skipped when s holds no pod. Returns the number of warnings added. */
size_t npd_lint_run(const struct npd_store *s, struct npd_diags *d);

#endif
