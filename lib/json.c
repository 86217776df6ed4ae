/* json.c: streaming decoder of Kubernetes API responses with yajl's callback parser. It
 * owns the yajl handle, watch-line framing and list/Status bookkeeping; field mapping is
 * decode.c's, a document's way to yajl json_list.c's. It never buffers a response or a
 * line: bytes go straight to yajl, which holds at most one partial token, and the builder
 * keeps only the fields netpold needs. The scanner (json_scan.c) sees every byte first,
 * so that a value over the size or depth bound is cut off before yajl would buffer it: a
 * watch line is skipped to its newline, a list item is skipped to its end and yajl
 * restarted behind it, anything else fails. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "decode_int.h"
#include "json_int.h"
#include "npd/json.h"
#include "npd/mem.h"

/* The builder the callbacks drive, or NULL while muted. */
static struct npd_dec *
target(void *ctx)
{
	struct npd_json_decoder *d = ctx;

	return d->mute ? NULL : &d->b;
}

static int
cb_null(void *ctx)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_scalar(b, NPD_DT_NULL, "", 0, 0);
	return 1;
}

static int
cb_bool(void *ctx, int v)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_scalar(b, NPD_DT_BOOL, v ? "true" : "false", v ? 4 : 5, 0);
	return 1;
}

static int
cb_number(void *ctx, const char *s, size_t len)
{
	struct npd_dec *b = target(ctx);
	enum npd_dtype t = NPD_DT_INT;
	size_t i;

	if (!b)
		return 1;
	for (i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			t = NPD_DT_DOUBLE;
	npd_dec_scalar(b, t, s, len, 0);
	return 1;
}

static int
cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_scalar(b, NPD_DT_STRING, (const char *)s, len, 0);
	return 1;
}

static int
cb_start_map(void *ctx)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_map_start(b, 0);
	return 1;
}

static int
cb_key(void *ctx, const unsigned char *s, size_t len)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_key(b, (const char *)s, len);
	return 1;
}

static int
cb_end_map(void *ctx)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_map_end(b);
	return 1;
}

static int
cb_start_array(void *ctx)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_array_start(b, 0);
	return 1;
}

static int
cb_end_array(void *ctx)
{
	struct npd_dec *b = target(ctx);

	if (b)
		npd_dec_array_end(b);
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

void
npd_json_new_handle(struct npd_json_decoder *d)
{
	if (d->h)
		yajl_free(d->h);
	d->h = yajl_alloc(&callbacks, NULL, d);
	if (!d->h)
		abort();
}

/* Reports yajl's error for the current document or line. */
void
npd_json_syntax_error(struct npd_json_decoder *d, const char *what)
{
	unsigned char *msg = yajl_get_error(d->h, 0, NULL, 0);
	const char *m = msg ? (const char *)msg : "parse error";
	size_t len = strlen(m);

	while (len && (m[len - 1] == '\n' || m[len - 1] == ' '))
		len--;
	if (d->mode == NPD_JSON_WATCH)
		npd_diags_add(d->diags, NPD_DIAG_SYNTAX, npd_kind_name(d->kind), NULL, NULL, NULL,
			      NULL, 0, "watch line %zu: %s: %.*s", d->line_no, what, (int)len, m);
	else
		npd_diags_add(d->diags, NPD_DIAG_SYNTAX, npd_kind_name(d->kind), NULL, NULL, NULL,
			      NULL, 0, "%s: %.*s", what, (int)len, m);
	if (msg)
		yajl_free_error(d->h, msg);
}

/* Reports a value cut off at a bound, naming the object when its kind, namespace or name
 * arrived before the cut (obj: the partial tree, may be NULL). */
void
npd_json_limit_error(struct npd_json_decoder *d, const struct npd_dnode *obj, enum npd_jscan_ev ev)
{
	const char *kind = npd_dnode_strp(obj, "kind", NULL);
	const char *ns = npd_dnode_strp(obj, "metadata", "namespace", NULL);
	const char *name = npd_dnode_strp(obj, "metadata", "name", NULL);
	bool big = ev == NPD_JSCAN_TOO_BIG;
	char line[48] = "";

	if (d->mode == NPD_JSON_WATCH)
		snprintf(line, sizeof(line), "watch line %zu: ", d->line_no);
	if (name)
		npd_diags_add(d->diags, NPD_DIAG_LIMIT, kind ? kind : npd_kind_name(d->kind), ns,
			      name, NULL, NULL, 0, "%sobject %s than %zu %s; skipped", line,
			      big ? "larger" : "nested deeper",
			      big ? d->scan.max_bytes : d->scan.max_depth,
			      big ? "bytes" : "levels");
	else
		npd_diags_add(
		    d->diags, NPD_DIAG_LIMIT, kind ? kind : npd_kind_name(d->kind), NULL, NULL,
		    NULL, NULL, 0, "%s%s object at byte %zu (%s than %zu %s); skipped", line,
		    big ? "oversized" : "deep", d->start_off, big ? "larger" : "nested deeper",
		    big ? d->scan.max_bytes : d->scan.max_depth, big ? "bytes" : "levels");
	npd_diags_set_limit(d->diags, big ? "size" : "depth");
	d->n_bad++;
}

static void
emit(struct npd_json_decoder *d, struct npd_event *ev)
{
	d->n_events++;
	if (d->fn)
		d->fn(ev, d->ctx);
	else
		npd_event_fini(ev);
}

/* Converts an object tree into an event of type t; counts it bad when it cannot be. */
static void
emit_object(struct npd_json_decoder *d, const struct npd_dnode *n, enum npd_event_type t)
{
	struct npd_event ev;

	memset(&ev, 0, sizeof(ev));
	if (npd_dec_convert(n, &d->opts, &ev.obj, d->diags) < 0) {
		d->n_bad++;
		return;
	}
	ev.type = t;
	ev.rv = npd_xstrdup(npd_dnode_strp(n, "metadata", "resourceVersion", NULL));
	emit(d, &ev);
}

static void
on_item(struct npd_dnode *item, void *ctx)
{
	emit_object(ctx, item, NPD_EV_ADDED);
}

static bool
is_status(const struct npd_dnode *n)
{
	const char *k = npd_dnode_strp(n, "kind", NULL);

	return k && !strcmp(k, "Status");
}

static void
record_status(struct npd_json_decoder *d, const struct npd_dnode *n)
{
	long long code = 0;

	npd_dnode_int(npd_dnode_get(n, "code"), &code);
	d->status_code = (int)code;
	free(d->status_reason);
	d->status_reason = npd_xstrdup(npd_dnode_strp(n, "reason", NULL));
}

static void
watch_event(struct npd_json_decoder *d, const struct npd_dnode *root)
{
	const char *type = npd_dnode_strp(root, "type", NULL);
	const struct npd_dnode *obj = npd_dnode_get(root, "object");
	struct npd_event ev;
	enum npd_event_type t;
	long long code = 0, retry = 0;

	if (npd_event_type_parse(type, &t) < 0 || !obj || obj->type != NPD_DT_MAP) {
		npd_diags_add(d->diags, NPD_DIAG_SYNTAX, npd_kind_name(d->kind), NULL, NULL, NULL,
			      NULL, 0, "watch line %zu: not a watch event (type %s%s%s)",
			      d->line_no, type ? "\"" : "", type ? type : "missing",
			      type ? "\"" : "");
		d->n_bad++;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	switch (ev.type) {
	case NPD_EV_ADDED:
	case NPD_EV_MODIFIED:
	case NPD_EV_DELETED:
		emit_object(d, obj, ev.type);
		return;
	case NPD_EV_BOOKMARK:
		ev.rv = npd_xstrdup(npd_dnode_strp(obj, "metadata", "resourceVersion", NULL));
		break;
	case NPD_EV_ERROR:
		npd_dnode_int(npd_dnode_get(obj, "code"), &code);
		ev.code = (int)code;
		ev.reason = npd_xstrdup(npd_dnode_strp(obj, "reason", NULL));
		ev.message = npd_xstrdup(npd_dnode_strp(obj, "message", NULL));
		/* A 429 inside a watch stream says when to come back the way Retry-After does. */
		if (npd_dnode_int(npd_dnode_get(npd_dnode_get(obj, "details"), "retryAfterSeconds"),
				  &retry) == 0 &&
		    retry > 0)
			ev.retry_after = (double)retry;
		break;
	}
	ev.obj.kind = NPD_KIND__COUNT;
	emit(d, &ev);
}

struct npd_json_decoder *
npd_json_decoder_new(enum npd_json_mode mode, enum npd_kind kind, npd_event_fn fn, void *ctx,
		     struct npd_diags *diags)
{
	struct npd_json_decoder *d = npd_xcalloc(1, sizeof(*d));
	const struct npd_schema *root = &npd_schema_object;

	d->mode = mode;
	d->kind = kind;
	d->fn = fn;
	d->ctx = ctx;
	d->diags = diags;
	d->opts.default_kind = kind;
	d->opts.has_default_kind = true;
	d->line_no = 1;
	d->scan.max_depth = NPD_LIMIT_DEPTH;
	d->scan.max_bytes = NPD_LIMIT_OBJECT_BYTES;
	d->scan.items = mode == NPD_JSON_LIST;
	if (mode == NPD_JSON_LIST)
		root = &npd_schema_list;
	else if (mode == NPD_JSON_WATCH)
		root = &npd_schema_watch;
	npd_dec_init(&d->b, root, on_item, d);
	npd_json_new_handle(d);
	return d;
}

void
npd_json_decoder_free(struct npd_json_decoder *d)
{
	if (!d)
		return;
	yajl_free(d->h);
	npd_dec_fini(&d->b);
	free(d->status_reason);
	free(d);
}

void
npd_json_decoder_set_max_bytes(struct npd_json_decoder *d, size_t max)
{
	d->scan.max_bytes = max < NPD_LIMIT_OBJECT_BYTES_MIN ? NPD_LIMIT_OBJECT_BYTES_MIN : max;
}

/* Feeds part of one watch line (no newline inside). */
static void
feed_line(struct npd_json_decoder *d, const unsigned char *p, size_t n)
{
	enum npd_jscan_ev ev;
	size_t i, k;

	if (d->line_bad || n == 0)
		return;
	for (i = 0; !d->line_nonblank && i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			d->line_nonblank = true;
	if (!d->line_nonblank)
		return;
	/* Without items the scanner only stops at a bound, before the byte that crosses it. */
	k = npd_jscan_run(&d->scan, p, n, &ev);
	if (k && yajl_parse(d->h, p, k) != yajl_status_ok) {
		npd_json_syntax_error(d, "malformed line");
		d->line_bad = true;
		d->n_bad++;
	} else if (ev != NPD_JSCAN_NONE) {
		npd_json_limit_error(d, npd_dnode_get(d->b.root, "object"), ev);
		d->line_bad = true;
	}
}

/* Ends a watch line: decodes its event or reports it. Returns -EINVAL when it was bad. */
static int
end_line(struct npd_json_decoder *d)
{
	struct npd_dnode *root;
	int rc = 0;

	if (d->line_nonblank && !d->line_bad) {
		if (yajl_complete_parse(d->h) != yajl_status_ok) {
			npd_json_syntax_error(d, "truncated line");
			d->n_bad++;
			rc = -EINVAL;
		} else if ((root = npd_dec_take_root(&d->b))) {
			watch_event(d, root);
			npd_dnode_free(root);
		}
	} else if (d->line_bad) {
		rc = -EINVAL;
	}
	if (d->line_nonblank) {
		npd_dec_reset(&d->b);
		npd_json_new_handle(d);
	}
	d->line_bad = false;
	d->line_nonblank = false;
	d->line_no++;
	npd_jscan_reset(&d->scan);
	return rc;
}

int
npd_json_decoder_feed(struct npd_json_decoder *d, const void *buf, size_t n)
{
	const unsigned char *p = buf, *nl;
	size_t k;

	if (d->mode != NPD_JSON_WATCH) {
		npd_json_feed_doc(d, p, n);
		return d->failed ? -EINVAL : 0;
	}
	while (n && (nl = memchr(p, '\n', n))) {
		k = (size_t)(nl - p);
		feed_line(d, p, k);
		end_line(d);
		d->off += k + 1;
		d->start_off = d->off;
		n -= k + 1;
		p = nl + 1;
	}
	feed_line(d, p, n);
	d->off += n;
	return 0;
}

int
npd_json_decoder_finish(struct npd_json_decoder *d)
{
	struct npd_dnode *root;

	if (d->mode == NPD_JSON_WATCH)
		return d->line_nonblank ? end_line(d) : 0;
	if (d->failed)
		return -EINVAL;
	if (yajl_complete_parse(d->h) != yajl_status_ok) {
		npd_json_syntax_error(d, "truncated document");
		d->failed = true;
		return -EINVAL;
	}
	if (!d->b.done) {
		npd_diags_add(d->diags, NPD_DIAG_SYNTAX, npd_kind_name(d->kind), NULL, NULL, NULL,
			      NULL, 0, "empty document");
		d->failed = true;
		return -EINVAL;
	}
	if (d->mode == NPD_JSON_LIST) {
		/* The list's own fields stay in the builder's root for the accessors. */
		if (is_status(d->b.root))
			record_status(d, d->b.root);
		return 0;
	}
	root = npd_dec_take_root(&d->b);
	if (is_status(root))
		record_status(d, root);
	else
		emit_object(d, root, NPD_EV_ADDED);
	npd_dnode_free(root);
	return 0;
}

const char *
npd_json_decoder_list_rv(const struct npd_json_decoder *d)
{
	return d->mode == NPD_JSON_LIST
		   ? npd_dnode_strp(d->b.root, "metadata", "resourceVersion", NULL)
		   : NULL;
}

const char *
npd_json_decoder_list_continue(const struct npd_json_decoder *d)
{
	const char *s = d->mode == NPD_JSON_LIST
			    ? npd_dnode_strp(d->b.root, "metadata", "continue", NULL)
			    : NULL;

	/* The API server sends "continue": "" on the last page. */
	return s && *s ? s : NULL;
}

int
npd_json_decoder_status_code(const struct npd_json_decoder *d)
{
	return d->status_code;
}

const char *
npd_json_decoder_status_reason(const struct npd_json_decoder *d)
{
	return d->status_reason;
}

size_t
npd_json_decoder_n_events(const struct npd_json_decoder *d)
{
	return d->n_events;
}

size_t
npd_json_decoder_n_bad(const struct npd_json_decoder *d)
{
	return d->n_bad;
}
