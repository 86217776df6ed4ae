/* decode_field.c: the converter's field readers. The converter never trusts the tree:
 * each reader checks the field's type, and every problem becomes a diagnostic with the
 * object's kind, namespace/name and field path, which the readers keep in struct npd_conv. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/yaml.h"

size_t
npd_conv_path_key(struct npd_conv *c, const char *key)
{
	size_t m = c->path.len;

	if (m)
		npd_buf_addc(&c->path, '.');
	npd_buf_adds(&c->path, key);
	return m;
}

size_t
npd_conv_path_idx(struct npd_conv *c, size_t i)
{
	size_t m = c->path.len;
	char d[24];
	size_t k = sizeof(d);

	/* By hand: the converter builds a path per element of every list it reads, and a
	 * printf per element was a visible share of decoding a PodList. */
	d[--k] = ']';
	do
		d[--k] = (char)('0' + i % 10);
	while ((i /= 10) && k > 1);
	d[--k] = '[';
	npd_buf_add(&c->path, d + k, sizeof(d) - k);
	return m;
}

void
npd_conv_path_pop(struct npd_conv *c, size_t m)
{
	c->path.len = m;
	if (c->path.data)
		c->path.data[m] = '\0';
}

static void __attribute__((format(printf, 4, 0)))
conv_verr(struct npd_conv *c, const struct npd_dnode *n, enum npd_diag_kind k, const char *fmt,
	  va_list ap)
{
	npd_diags_vadd(&c->diags, k, c->kind, c->ns, c->name, c->path.len ? c->path.data : NULL,
		       c->file, n ? n->line : 0, fmt, ap);
	c->nerr++;
}

void
npd_conv_err(struct npd_conv *c, const struct npd_dnode *n, enum npd_diag_kind k, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	conv_verr(c, n, k, fmt, ap);
	va_end(ap);
}

void
npd_conv_err_key(struct npd_conv *c, const char *key, const struct npd_dnode *n,
		 enum npd_diag_kind k, const char *fmt, ...)
{
	size_t m = npd_conv_path_key(c, key);
	va_list ap;

	va_start(ap, fmt);
	conv_verr(c, n, k, fmt, ap);
	va_end(ap);
	npd_conv_path_pop(c, m);
}

const char *
npd_conv_type_name(enum npd_dtype t)
{
	static const char *const names[] = {"object", "array",	 "string", "integer",
					    "number", "boolean", "null",   "scalar"};

	return names[t];
}

bool
npd_conv_is_null(const struct npd_dnode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (!n || n->type == NPD_DT_NULL)
		return true;
	if (n->type != NPD_DT_PLAIN)
		return false;
	for (i = 0; i < NPD_ARRAY_SIZE(nulls); i++)
		if (!strcmp(n->text, nulls[i]))
			return true;
	return false;
}

/* 1: present with type t; 0: absent or null; -EINVAL: reported. */
int
npd_conv_check_type(struct npd_conv *c, const struct npd_dnode *n, enum npd_dtype t)
{
	if (npd_conv_is_null(n))
		return 0;
	if (n->type != t) {
		npd_conv_err(c, n, NPD_DIAG_TYPE, "expected %s, got %s", npd_conv_type_name(t),
			     npd_conv_type_name(n->type));
		return -EINVAL;
	}
	if (n->overflow) {
		npd_conv_err(c, n, NPD_DIAG_LIMIT, "more than %zu entries", n->n);
		npd_diags_set_limit(&c->diags, n->overflow);
		return -EINVAL;
	}
	return 1;
}

int
npd_conv_want_str(struct npd_conv *c, const struct npd_dnode *n, const char **out)
{
	*out = NULL;
	if (npd_conv_is_null(n))
		return 0;
	if (n->type != NPD_DT_STRING && n->type != NPD_DT_PLAIN) {
		npd_conv_err(c, n, NPD_DIAG_TYPE, "expected string, got %s",
			     npd_conv_type_name(n->type));
		return -EINVAL;
	}
	if (n->toolong) {
		npd_conv_err(c, n, NPD_DIAG_LIMIT, "string longer than %d bytes",
			     NPD_DEC_MAX_SCALAR);
		npd_diags_set_limit(&c->diags, "string");
		return -EINVAL;
	}
	*out = n->text;
	return 0;
}

int
npd_conv_str(struct npd_conv *c, const struct npd_dnode *map, const char *key, const char **out)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);
	size_t m;
	int rc;

	*out = NULL;
	if (!n)
		return 0;
	m = npd_conv_path_key(c, key);
	rc = npd_conv_want_str(c, n, out);
	npd_conv_path_pop(c, m);
	return rc;
}

/* Reads an integer field into *out; *present false when absent. */
int
npd_conv_int(struct npd_conv *c, const struct npd_dnode *map, const char *key, long long *out,
	     bool *present)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);

	*present = false;
	if (npd_conv_is_null(n))
		return 0;
	if (npd_dnode_int(n, out) == 0) {
		*present = true;
		return 0;
	}
	npd_conv_err_key(c, key, n, NPD_DIAG_TYPE, "expected integer, got %s \"%s\"",
			 npd_conv_type_name(n->type), n->text ? n->text : "");
	return -EINVAL;
}

int
npd_conv_bool(struct npd_conv *c, const struct npd_dnode *map, const char *key, bool *out)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);

	*out = false;
	if (npd_conv_is_null(n))
		return 0;
	/* YAML 1.1 booleans, as sigs.k8s.io/yaml reads manifests; JSON has only true/false. */
	if ((n->type == NPD_DT_BOOL || n->type == NPD_DT_PLAIN) &&
	    npd_yaml_bool_parse(n->text, out) == 0)
		return 0;
	npd_conv_err_key(c, key, n, NPD_DIAG_TYPE, "expected boolean, got %s \"%s\"",
			 npd_conv_type_name(n->type), n->text ? n->text : "");
	return -EINVAL;
}

/* Child map or array field: 1 present, 0 absent, -EINVAL reported. */
int
npd_conv_node(struct npd_conv *c, const struct npd_dnode *map, const char *key, enum npd_dtype t,
	      const struct npd_dnode **out)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);
	size_t m;
	int rc;

	*out = NULL;
	if (!n)
		return 0;
	m = npd_conv_path_key(c, key);
	rc = npd_conv_check_type(c, n, t);
	npd_conv_path_pop(c, m);
	if (rc > 0)
		*out = n;
	return rc;
}

int
npd_conv_labels(struct npd_conv *c, const struct npd_dnode *map, const char *key, bool validate,
		struct npd_labels *out)
{
	const struct npd_dnode *n, *e;
	size_t m, m2;
	int rc;
	const char *v;

	rc = npd_conv_node(c, map, key, NPD_DT_MAP, &n);
	if (rc <= 0)
		return rc;
	m = npd_conv_path_key(c, key);
	rc = 0;
	for (e = n->child; e; e = e->next) {
		m2 = npd_conv_path_key(c, e->key);
		if (npd_conv_want_str(c, e, &v) < 0) {
			rc = -EINVAL;
		} else if (validate && !npd_is_label_key(e->key)) {
			npd_conv_err(c, e, NPD_DIAG_VALUE, "invalid label key \"%s\"", e->key);
			rc = -EINVAL;
		} else if (validate && !npd_is_label_value(v ? v : "")) {
			npd_conv_err(c, e, NPD_DIAG_VALUE, "invalid label value \"%s\"", v);
			rc = -EINVAL;
		} else {
			npd_labels_set(out, e->key, v ? v : "");
		}
		npd_conv_path_pop(c, m2);
	}
	npd_conv_path_pop(c, m);
	return rc;
}

/* npd_selector_validate knows no lines: give its diagnostics the selector's. */
void
npd_conv_stamp_lines(struct npd_conv *c, size_t from, const struct npd_dnode *n)
{
	size_t i;

	for (i = from; i < c->diags.n; i++) {
		struct npd_diag *dg = &c->diags.v[i];

		if (!dg->file)
			dg->file = npd_xstrdup(c->file);
		if (!dg->line && n)
			dg->line = n->line;
	}
}
