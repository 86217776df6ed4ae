/* selector.c: LabelSelector semantics (matchLabels AND matchExpressions) and the canonical
 * text that names a selector's ipset. Pure functions over model structs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "sorted_int.h"

static bool
expr_has_value(const struct npd_sel_expr *e, const char *v)
{
	return npd_sorted_find(e->values, e->n_values, sizeof(*e->values), npd_sorted_str, v) >= 0;
}

bool
npd_selector_matches(const struct npd_selector *sel, const struct npd_labels *labels)
{
	size_t i;

	for (i = 0; i < sel->match_labels.n; i++) {
		const char *v = npd_labels_get(labels, sel->match_labels.v[i].key);

		if (!v || strcmp(v, sel->match_labels.v[i].value))
			return false;
	}
	for (i = 0; i < sel->n_exprs; i++) {
		const struct npd_sel_expr *e = &sel->exprs[i];
		const char *v = npd_labels_get(labels, e->key);

		switch (e->op) {
		case NPD_SEL_IN:
			if (!v || !expr_has_value(e, v))
				return false;
			break;
		case NPD_SEL_NOT_IN:
			/* Kubernetes: NotIn matches when the key is absent too. */
			if (v && expr_has_value(e, v))
				return false;
			break;
		case NPD_SEL_EXISTS:
			if (!v)
				return false;
			break;
		case NPD_SEL_DOES_NOT_EXIST:
			if (v)
				return false;
			break;
		}
	}
	return true;
}

bool
npd_selector_is_empty(const struct npd_selector *sel)
{
	return sel->match_labels.n == 0 && sel->n_exprs == 0;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
expr_cmp(const void *a, const void *b)
{
	const struct npd_sel_expr *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	size_t i;

	if (c)
		return c;
	if (x->op != y->op)
		return (int)x->op - (int)y->op;
	for (i = 0; i < x->n_values && i < y->n_values; i++)
		if ((c = strcmp(x->values[i], y->values[i])))
			return c;
	return (int)x->n_values - (int)y->n_values;
}

void
npd_selector_normalize(struct npd_selector *sel)
{
	size_t i, j, k;

	for (i = 0; i < sel->n_exprs; i++) {
		struct npd_sel_expr *e = &sel->exprs[i];

		if (e->n_values > 1)
			qsort(e->values, e->n_values, sizeof(*e->values), strp_cmp);
		for (j = k = 0; j < e->n_values; j++) {
			if (k && !strcmp(e->values[k - 1], e->values[j])) {
				free(e->values[j]);
				continue;
			}
			e->values[k++] = e->values[j];
		}
		e->n_values = k;
	}
	if (sel->n_exprs > 1)
		qsort(sel->exprs, sel->n_exprs, sizeof(*sel->exprs), expr_cmp);
}

void
npd_selector_format(const struct npd_selector *sel, struct npd_buf *b)
{
	size_t i, j;
	bool first = true;

	for (i = 0; i < sel->match_labels.n; i++) {
		npd_buf_printf(b, "%s%s=%s", first ? "" : ",", sel->match_labels.v[i].key,
			       sel->match_labels.v[i].value);
		first = false;
	}
	for (i = 0; i < sel->n_exprs; i++) {
		const struct npd_sel_expr *e = &sel->exprs[i];

		if (!first)
			npd_buf_addc(b, ',');
		first = false;
		switch (e->op) {
		case NPD_SEL_EXISTS:
			npd_buf_adds(b, e->key);
			continue;
		case NPD_SEL_DOES_NOT_EXIST:
			npd_buf_printf(b, "!%s", e->key);
			continue;
		case NPD_SEL_IN:
		case NPD_SEL_NOT_IN:
			break;
		}
		npd_buf_printf(b, "%s %s (", e->key, e->op == NPD_SEL_IN ? "in" : "notin");
		for (j = 0; j < e->n_values; j++)
			npd_buf_printf(b, "%s%s", j ? "," : "", e->values[j]);
		npd_buf_addc(b, ')');
	}
}

void
npd_selector_copy(struct npd_selector *dst, const struct npd_selector *src)
{
	size_t i, j;

	npd_labels_copy(&dst->match_labels, &src->match_labels);
	dst->n_exprs = src->n_exprs;
	dst->exprs = src->n_exprs ? npd_xcalloc(src->n_exprs, sizeof(*dst->exprs)) : NULL;
	for (i = 0; i < src->n_exprs; i++) {
		const struct npd_sel_expr *s = &src->exprs[i];
		struct npd_sel_expr *d = &dst->exprs[i];

		d->key = npd_xstrdup(s->key);
		d->op = s->op;
		d->n_values = s->n_values;
		d->values = s->n_values ? npd_xcalloc(s->n_values, sizeof(char *)) : NULL;
		for (j = 0; j < s->n_values; j++)
			d->values[j] = npd_xstrdup(s->values[j]);
	}
}

bool
npd_selector_equal(const struct npd_selector *a, const struct npd_selector *b)
{
	size_t i;

	if (!npd_labels_equal(&a->match_labels, &b->match_labels) || a->n_exprs != b->n_exprs)
		return false;
	for (i = 0; i < a->n_exprs; i++)
		if (expr_cmp(&a->exprs[i], &b->exprs[i]))
			return false;
	return true;
}

int
npd_selector_validate(const struct npd_selector *sel, struct npd_diags *d, const char *obj_kind,
		      const char *ns, const char *name, const char *path)
{
	int rc = 0;
	size_t i, j;

	for (i = 0; i < sel->match_labels.n; i++) {
		const struct npd_label *l = &sel->match_labels.v[i];

		if (!npd_is_label_key(l->key)) {
			npd_diags_add(d, NPD_DIAG_VALUE, obj_kind, ns, name, path, NULL, 0,
				      "invalid label key \"%s\" in matchLabels", l->key);
			rc = -EINVAL;
		}
		if (!npd_is_label_value(l->value)) {
			npd_diags_add(d, NPD_DIAG_VALUE, obj_kind, ns, name, path, NULL, 0,
				      "invalid label value \"%s\" for key \"%s\" in matchLabels",
				      l->value, l->key);
			rc = -EINVAL;
		}
	}
	for (i = 0; i < sel->n_exprs; i++) {
		const struct npd_sel_expr *e = &sel->exprs[i];
		bool wants_values = e->op == NPD_SEL_IN || e->op == NPD_SEL_NOT_IN;

		if (!e->key || !npd_is_label_key(e->key)) {
			npd_diags_add(d, NPD_DIAG_VALUE, obj_kind, ns, name, path, NULL, 0,
				      "invalid label key \"%s\" in matchExpressions",
				      e->key ? e->key : "");
			rc = -EINVAL;
		}
		if (wants_values && e->n_values == 0) {
			npd_diags_add(d, NPD_DIAG_VALUE, obj_kind, ns, name, path, NULL, 0,
				      "operator %s on key \"%s\" needs at least one value",
				      npd_sel_op_name(e->op), e->key ? e->key : "");
			rc = -EINVAL;
		}
		if (!wants_values && e->n_values > 0) {
			npd_diags_add(d, NPD_DIAG_VALUE, obj_kind, ns, name, path, NULL, 0,
				      "operator %s on key \"%s\" takes no values",
				      npd_sel_op_name(e->op), e->key ? e->key : "");
			rc = -EINVAL;
		}
		for (j = 0; j < e->n_values; j++)
			if (!npd_is_label_value(e->values[j])) {
				npd_diags_add(d, NPD_DIAG_VALUE, obj_kind, ns, name, path, NULL, 0,
					      "invalid label value \"%s\" in matchExpressions",
					      e->values[j]);
				rc = -EINVAL;
			}
	}
	return rc;
}

static const char *const op_names[] = {"In", "NotIn", "Exists", "DoesNotExist"};

int
npd_sel_op_parse(const char *s, enum npd_sel_op *out)
{
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(op_names); i++)
		if (!strcmp(s, op_names[i])) {
			*out = (enum npd_sel_op)i;
			return 0;
		}
	return -EINVAL;
}

const char *
npd_sel_op_name(enum npd_sel_op op)
{
	return (unsigned)op < NPD_ARRAY_SIZE(op_names) ? op_names[op] : "?";
}
