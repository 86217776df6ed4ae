/* selector.h: Kubernetes label selectors: matching, validation and a canonical text form
 * (used for display and as the identity of the ipset a peer selector becomes). */
#ifndef NPD_SELECTOR_H
#define NPD_SELECTOR_H

#include <stdbool.h>

#include "npd/buf.h"
#include "npd/diag.h"
#include "npd/model.h"

/* True when labels satisfy every matchLabels pair and every expression. An empty
 * selector matches everything. */
bool npd_selector_matches(const struct npd_selector *sel, const struct npd_labels *labels);
bool npd_selector_is_empty(const struct npd_selector *sel);
/* Appends a canonical form to b: "app=web,env in (a,b),!x,y" (sorted, so equal selectors
 * print equal); the empty selector prints as "" . */
void npd_selector_format(const struct npd_selector *sel, struct npd_buf *b);
/* Deep copy into caller storage (dst must be zeroed or finalized). */
void npd_selector_copy(struct npd_selector *dst, const struct npd_selector *src);
bool npd_selector_equal(const struct npd_selector *a, const struct npd_selector *b);
/* Checks key and value syntax and operator/value rules (In/NotIn need values,
 * Exists/DoesNotExist none). Reports each problem to d with the given object context and
 * path prefix; returns 0 when valid, -EINVAL otherwise. */
int npd_selector_validate(const struct npd_selector *sel, struct npd_diags *d, const char *obj_kind,
			  const char *ns, const char *name, const char *path);
/* Sorts match labels and expression values and removes duplicates; decoders call this
 * once after building a selector. */
void npd_selector_normalize(struct npd_selector *sel);
int npd_sel_op_parse(const char *s, enum npd_sel_op *out);
const char *npd_sel_op_name(enum npd_sel_op op);

#endif
