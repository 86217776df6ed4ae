/* diag.c: the diagnostic list decoders and the compiler report bad input into. It formats
 * but never prints: the agent decides where a diagnostic goes. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/diag.h"
#include "npd/mem.h"

void
npd_diags_init(struct npd_diags *d)
{
	memset(d, 0, sizeof(*d));
}

static void
diag_fini(struct npd_diag *dg)
{
	free(dg->obj_kind);
	free(dg->ns);
	free(dg->name);
	free(dg->path);
	free(dg->file);
	free(dg->msg);
}

void
npd_diags_reset(struct npd_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		diag_fini(&d->v[i]);
	d->n = 0;
}

void
npd_diags_fini(struct npd_diags *d)
{
	npd_diags_reset(d);
	free(d->v);
	npd_diags_init(d);
}

void
npd_diags_vadd(struct npd_diags *d, enum npd_diag_kind kind, const char *obj_kind, const char *ns,
	       const char *name, const char *path, const char *file, int line, const char *fmt,
	       va_list ap)
{
	struct npd_diag *dg;

	if (!d)
		return;
	npd_xgrow(&d->v, &d->cap, d->n + 1, sizeof(*d->v));
	dg = &d->v[d->n++];
	dg->kind = kind;
	dg->obj_kind = npd_xstrdup(obj_kind);
	dg->ns = npd_xstrdup(ns);
	dg->name = npd_xstrdup(name);
	dg->path = npd_xstrdup(path);
	dg->file = npd_xstrdup(file);
	dg->line = line;
	dg->msg = npd_xvasprintf(fmt, ap);
	dg->limit = NULL;
}

void
npd_diags_set_limit(struct npd_diags *d, const char *limit)
{
	if (d && d->n)
		d->v[d->n - 1].limit = limit;
}

void
npd_diags_add(struct npd_diags *d, enum npd_diag_kind kind, const char *obj_kind, const char *ns,
	      const char *name, const char *path, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	npd_diags_vadd(d, kind, obj_kind, ns, name, path, file, line, fmt, ap);
	va_end(ap);
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* True when a and b are about one named object. */
static bool
same_object(const struct npd_diag *a, const struct npd_diag *b)
{
	return a->name && str_eq(a->obj_kind, b->obj_kind) && str_eq(a->ns, b->ns) &&
	       str_eq(a->name, b->name);
}

void
npd_diags_each_rejected(const struct npd_diags *d, npd_diag_fn fn, void *arg)
{
	bool counted = false;
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct npd_diag *dg = &d->v[i];

		if (!i || !same_object(&d->v[i - 1], dg))
			counted = false;
		if (counted || dg->kind != NPD_DIAG_LIMIT || !dg->limit)
			continue;
		counted = true;
		fn(dg, arg);
	}
}

void
npd_diags_move(struct npd_diags *dst, struct npd_diags *src)
{
	if (!src->n)
		return;
	npd_xgrow(&dst->v, &dst->cap, dst->n + src->n, sizeof(*dst->v));
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	src->n = 0;
}

const char *
npd_diag_kind_name(enum npd_diag_kind k)
{
	static const char *const names[] = {"syntax",	   "type",  "value",
					    "unsupported", "limit", "lint"};

	return (unsigned)k < NPD_ARRAY_SIZE(names) ? names[k] : "unknown";
}

char *
npd_diag_format(const struct npd_diag *dg, char *buf, size_t len)
{
	struct npd_buf b;

	npd_buf_init(&b);
	npd_buf_printf(&b, "kind=%s", npd_diag_kind_name(dg->kind));
	if (dg->obj_kind)
		npd_buf_printf(&b, " object=%s", dg->obj_kind);
	if (dg->ns || dg->name)
		npd_buf_printf(&b, " name=%s%s%s", dg->ns ? dg->ns : "", dg->ns ? "/" : "",
			       dg->name ? dg->name : "");
	if (dg->file)
		npd_buf_printf(&b, " file=%s:%d", dg->file, dg->line);
	if (dg->path)
		npd_buf_printf(&b, " path=%s", dg->path);
	if (dg->limit)
		npd_buf_printf(&b, " reason=%s", dg->limit);
	npd_buf_printf(&b, " msg=\"%s\"", dg->msg ? dg->msg : "");
	snprintf(buf, len, "%s", b.data);
	npd_buf_fini(&b);
	return buf;
}
